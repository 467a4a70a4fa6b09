import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Validates STAC objects with ajv against the published STAC 1.0.0 and projection v1.1.0 schemas
 * (test/fixtures/stac-schemas) and the GeoJSON schemas of the `geojson-schema` package. Nothing is
 * fetched: every schema is loaded here, so an unresolved reference fails the compile.
 */
const FIXTURES = join(__dirname, '..', 'fixtures', 'stac-schemas');
const GEOJSON = join(__dirname, '..', '..', 'node_modules', 'geojson-schema');

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? jsonFiles(p) : n.endsWith('.json') ? [p] : [];
  });
}

function makeAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // The `iri` formats of STAC's schemas: ajv-formats has uri/uri-reference; an IRI is checked as one.
  ajv.addFormat('iri', true);
  ajv.addFormat('iri-reference', true);
  for (const f of [...jsonFiles(FIXTURES), ...jsonFiles(GEOJSON).filter((p) => !p.endsWith('package.json'))]) {
    const schema = JSON.parse(readFileSync(f, 'utf8')) as { $id?: string };
    ajv.addSchema(schema, schema.$id?.replace(/#$/, ''));
  }
  // Referenced only by `proj:projjson`, which Tessera does not write.
  ajv.addSchema({}, 'https://proj.org/schemas/v0.5/projjson.schema.json');
  return ajv;
}

let ajv: Ajv | undefined;

/** The errors of `value` against the core schema (`item` or `collection`) and every extension it names; [] when valid. */
export function stacErrors(value: unknown, kind: 'item' | 'collection'): string[] {
  ajv ??= makeAjv();
  const core = kind === 'item' ? 'https://schemas.stacspec.org/v1.0.0/item-spec/json-schema/item.json' : 'https://schemas.stacspec.org/v1.0.0/collection-spec/json-schema/collection.json';
  const errors: string[] = [];
  for (const id of [core, ...((value as { stac_extensions?: string[] }).stac_extensions ?? [])]) {
    const validate = ajv.getSchema(id);
    if (!validate) {
      errors.push(`no schema ${id}`);
      continue;
    }
    if (!validate(value)) errors.push(...(validate.errors ?? []).map((e) => `${id}: ${e.instancePath} ${e.message ?? ''}`));
  }
  return errors;
}
