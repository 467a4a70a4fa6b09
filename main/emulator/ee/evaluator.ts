/**
 * Follows the expression graph of an `image:export` request far enough to know what the export produces:
 * its pixel grid, band names, data types and clip masks; of a `table:export`, its features (constant ones
 * and points sampled from an image); of a `value:compute`, small values (constants, band names). It is a
 * small table of the functions Tessera's recipes and tests use, not an Earth Engine: pixel values are never
 * computed (synthetic values stand in), and a function outside the table is refused (NotEmulatedError)
 * rather than guessed.
 *
 * Three kinds of failure, for the server to map:
 * - MalformedExpressionError: the body is not an expression at all (400 INVALID_ARGUMENT);
 * - EeEvaluationError: a well-formed graph Earth Engine itself would reject while running the task
 *   (a band pattern matching nothing, a missing argument…); its message imitates EE's;
 * - NotEmulatedError (product.ts): a graph EE might run but the emulator cannot follow.
 *
 * The parts: values.ts (the value model), graph.ts (walking the graph, checking arguments), functions.ts
 * (the dispatch table), images.ts, geometry.ts and features.ts (the algorithms the table calls).
 */
import { NotEmulatedError, type ExportBand, type ExportGrid, type ImageProduct, type TableProduct } from './product';
import { CollectionV, EeEvaluationError, FeatureCollectionV, ImageV, isRecord, MalformedExpressionError, type AssetLookup, type Value } from './values';
import { Graph } from './graph';
import { FUNCTIONS } from './functions';
import { dataTypeOf } from './images';
import { gridFromFootprint } from './geometry';
import { clipInGrid, tableFeature, toInfo } from './features';

export { EeEvaluationError, MalformedExpressionError, type AssetLookup } from './values';

/** Derives the product of `POST /v1/projects/{p}/image:export` from its JSON body. */
export function evaluateImageExport(body: unknown, assets?: AssetLookup): ImageProduct {
  if (!isRecord(body)) throw new MalformedExpressionError('the request body is not a JSON object');
  if (body.grid !== undefined) throw new NotEmulatedError('the export request field "grid"');
  const format = isRecord(body.fileExportOptions) ? body.fileExportOptions.fileFormat : undefined;
  if (format !== undefined && format !== 'GEO_TIFF') throw new NotEmulatedError(`file format ${String(format)}`);
  const expression = body.expression;
  if (!isRecord(expression) || typeof expression.result !== 'string' || !isRecord(expression.values)) {
    throw new MalformedExpressionError('"expression" must be {result, values}');
  }
  const result = new Graph(expression.values, assets).ref(expression.result, undefined);
  if (result instanceof CollectionV) throw new NotEmulatedError('exporting an ImageCollection as an image');
  if (!(result instanceof ImageV)) throw new EeEvaluationError('Export: the exported object is not an Image.');
  if (result.bands.length === 0) throw new EeEvaluationError('Export: the image has no bands.');
  const grid = result.grid ?? gridFromFootprint(result);
  return imageInGrid(result, grid);
}

/** An image's bands and clip masks in a pixel grid, as an export in that grid writes them. */
function imageInGrid(image: ImageV, grid: ExportGrid): ImageProduct {
  const product: ImageProduct = {
    kind: 'image',
    grid,
    bands: image.bands.map((b): ExportBand => ({ name: b.name, dataType: dataTypeOf(b.type) })),
    pixels: grid.width * grid.height,
  };
  return image.clips.length ? { ...product, clips: image.clips.map((c) => clipInGrid(c, grid)) } : product;
}

/**
 * The image of a `computePixels` request in the request's own pixel grid (ee/compute-pixels.ts): its
 * bands and clip masks as an export of the same image in that grid would write them.
 */
export function evaluateImageInGrid(expression: unknown, grid: ExportGrid, assets?: AssetLookup): ImageProduct {
  const result = evaluateExpression(expression, assets);
  if (result instanceof CollectionV) throw new NotEmulatedError('computePixels of an ImageCollection');
  if (!(result instanceof ImageV)) throw new EeEvaluationError('computePixels: the expression is not an Image.');
  if (result.bands.length === 0) throw new EeEvaluationError('computePixels: the image has no bands.');
  return imageInGrid(result, grid);
}

/**
 * Derives the features of `POST /v1/projects/{p}/table:export` from its JSON body: constant features
 * and points sampled from an image (`Image.sampleRegions`), with synthetic band values that match the
 * pixels an image export of the same image would write.
 */
export function evaluateTableExport(body: unknown, assets?: AssetLookup): TableProduct {
  if (!isRecord(body)) throw new MalformedExpressionError('the request body is not a JSON object');
  const result = evaluateExpression(body.expression, assets);
  if (result instanceof CollectionV) throw new NotEmulatedError('exporting an ImageCollection as a table');
  if (!(result instanceof FeatureCollectionV)) throw new EeEvaluationError('Export: the exported object is not a FeatureCollection.');
  return { kind: 'table', features: result.features.map((f, i) => tableFeature(f, f.id ?? String(i))) };
}

/**
 * `POST /v1/projects/{p}/value:compute` (`getInfo` / `evaluate`): the value of a small expression as
 * JSON — constants, lists, band names, an image's description, features. Anything else is not emulated.
 */
export function evaluateValue(body: unknown, assets?: AssetLookup): unknown {
  if (!isRecord(body)) throw new MalformedExpressionError('the request body is not a JSON object');
  return toInfo(evaluateExpression(body.expression, assets));
}

function evaluateExpression(expression: unknown, assets?: AssetLookup): Value {
  if (!isRecord(expression) || typeof expression.result !== 'string' || !isRecord(expression.values)) {
    throw new MalformedExpressionError('"expression" must be {result, values}');
  }
  return new Graph(expression.values, assets).ref(expression.result, undefined);
}

/** Every function the evaluator follows; the emulator's algorithm catalog holds exactly these. */
export function supportedFunctions(): string[] {
  return Object.keys(FUNCTIONS).sort();
}
