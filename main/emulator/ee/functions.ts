/** The dispatch table: every Earth Engine function the evaluator follows. */
import { NotEmulatedError } from './product';
import { CollectionV, EeEvaluationError, FeatureCollectionV, FeatureV, GeometryV, ImageV, NestedCollectionV, OpaqueV, ProjectionV, ReducerV, isEeObject, isRecord } from './values';
import type { Value } from './values';
import type { Args } from './graph';
import { BOOLEAN, CASTS, DOUBLE, FLOAT, appendBands, binary, cast, constantImage, countType, datasetBands, keepNames, pairwise, reducer, retype, same, selectBands, shortcut, sumType, template, toDouble, unary, union } from './images';
import { WGS84_PROJECTION, boundsOf, clipToBoundsAndScale, geometryArgs, geometryFromGeoJson, normalizeCrs, pointsIn, projectionArgs, rectangle } from './geometry';
import { assetImage, assetName, limitFeatures, reindex, sampleRegions } from './features';

// ---------------------------------------------------------------------------------------------------
// The table

const passThrough = (name: string) => (a: Args): Value => a.value(name);
const filter = (): Value => new OpaqueV('Filter');

export const FUNCTIONS: Record<string, (a: Args) => Value> = {
  // Images from nothing or from the catalog
  'Image.constant': (a) => {
    const v = a.value('value');
    if (typeof v === 'number' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number'))) {
      return constantImage(v as number | number[]);
    }
    throw new NotEmulatedError('Image.constant of a value that is not a number or a list of numbers');
  },
  'Image.load': (a) => {
    const own = a.graph.assets?.image?.(assetName(a.string('id')));
    return own ? assetImage(own) : new ImageV(datasetBands(a.string('id'), true));
  },
  'ImageCollection.load': (a) => {
    const id = a.string('id');
    const images = a.graph.assets?.collection(assetName(id));
    if (images) return new CollectionV(images[0] ? assetImage(images[0]) : undefined);
    return new CollectionV(new ImageV(datasetBands(id, false)));
  },
  // ee.FeatureCollection('projects/p/assets/table'): the features a table export to that asset wrote.
  'Collection.loadTable': (a) => {
    const id = a.string('tableId');
    const features = a.graph.assets?.table(assetName(id));
    if (!features) throw new EeEvaluationError(`${a.fn}: Collection asset '${id}' not found.`);
    return new FeatureCollectionV(features.map((f) => new FeatureV(f.geometry ? geometryFromGeoJson(f.geometry as unknown as Record<string, unknown>) : undefined, f.properties as Record<string, Value>, f.id)));
  },
  // fc1.merge(fc2): EE prefixes system:index with "1_" / "2_".
  'Collection.merge': (a) => {
    const c1 = a.features('collection1');
    const c2 = a.features('collection2');
    return new FeatureCollectionV([...c1.features.map((f, i) => reindex(f, `1_${f.id ?? i}`)), ...c2.features.map((f, i) => reindex(f, `2_${f.id ?? i}`))]);
  },
  // ee.FeatureCollection(listOfCollections).flatten(): "{outer}_{inner}" system:index.
  'Collection.flatten': (a) => {
    const c = a.value('collection');
    if (c instanceof FeatureCollectionV) {
      if (c.features.length === 0) return c;
      throw new NotEmulatedError(`${a.fn} of a collection of features (not of collections)`);
    }
    if (!(c instanceof NestedCollectionV)) throw a.wrong('collection', 'FeatureCollection');
    return new FeatureCollectionV(c.collections.flatMap((inner, i) => inner.features.map((f, k) => reindex(f, `${i}_${f.id ?? k}`))));
  },

  // Bands
  'Image.select': (a) => {
    const input = a.image('input');
    const bands = selectBands(a.fn, input, a.selectors('bandSelectors'));
    const names = a.optional('strings', 'newNames');
    if (names && names.length !== bands.length) {
      throw new EeEvaluationError(`${a.fn}: The number of new names (${names.length}) does not match the number of selected bands (${bands.length}).`);
    }
    return input.with({ bands: bands.map((b, i) => ({ name: names?.[i] ?? b.name, type: b.type })) });
  },
  'Image.rename': (a) => {
    const input = a.image('input');
    const names = a.strings('names');
    if (names.length !== input.bands.length) {
      throw new EeEvaluationError(`${a.fn}: Can't rename ${input.bands.length} bands to ${names.length} names.`);
    }
    return input.with({ bands: input.bands.map((b, i) => ({ name: names[i] as string, type: b.type })) });
  },
  'Image.addBands': (a) => {
    const dst = a.image('dstImg');
    const src = a.image('srcImg');
    const names = a.optional('strings', 'names');
    const added = names ? selectBands(a.fn, src, names) : src.bands;
    if (!a.boolean('overwrite', false)) return dst.with({ bands: appendBands(dst.bands, added) });
    const replaced = new Map(added.map((b) => [b.name, b]));
    const kept = dst.bands.map((b) => replaced.get(b.name) ?? b);
    const dstNames = new Set(dst.bands.map((b) => b.name));
    return dst.with({ bands: appendBands(kept, added.filter((b) => !dstNames.has(b.name))) });
  },
  'Image.cat': (a) => {
    const [first, ...rest] = a.images('images');
    if (!first) throw new EeEvaluationError(`${a.fn}: no images to combine.`);
    return rest.reduce((acc, img) => acc.with({ bands: appendBands(acc.bands, img.bands) }), first);
  },
  'Image.normalizedDifference': (a) => {
    const input = a.image('input');
    const names = a.optional('strings', 'bandNames');
    if (names && names.length !== 2) throw new EeEvaluationError(`${a.fn}: Need exactly 2 bands, got ${names.length}.`);
    const bands = names ? selectBands(a.fn, input, names) : input.bands.slice(0, 2);
    if (bands.length !== 2) throw new EeEvaluationError(`${a.fn}: Need 2 bands, the image has ${input.bands.length}.`);
    return input.with({ bands: [{ name: 'nd', type: FLOAT }] });
  },

  // Arithmetic and comparisons
  'Image.add': binary(union),
  'Image.subtract': binary(union),
  'Image.multiply': binary(union),
  // The catalog says "union" here too, but an integer quotient is fractional: EE users get floats.
  'Image.divide': binary((x, y) => (x.precision === 'int' && y.precision === 'int' ? FLOAT : union(x, y))),
  'Image.max': binary(union),
  'Image.min': binary(union),
  'Image.pow': binary((x, y) => (x.precision === 'double' || y.precision === 'double' ? DOUBLE : FLOAT)),
  'Image.and': binary(() => BOOLEAN),
  'Image.bitwiseAnd': binary(union),
  'Image.bitwiseOr': binary(union),
  'Image.rightShift': binary(union),
  'Image.or': binary(() => BOOLEAN),
  'Image.lt': binary(() => BOOLEAN),
  'Image.lte': binary(() => BOOLEAN),
  'Image.gt': binary(() => BOOLEAN),
  'Image.gte': binary(() => BOOLEAN),
  'Image.eq': binary(() => BOOLEAN),
  'Image.neq': binary(() => BOOLEAN),
  'Image.not': unary(() => BOOLEAN),
  'Image.abs': unary((t) => (t.precision === 'int' ? { precision: 'int', min: 0, max: Math.max(Math.abs(t.min), Math.abs(t.max)) } : t)),
  'Image.sqrt': unary((t) => (t.precision === 'double' ? DOUBLE : FLOAT)),

  // Casts (EE has several names for most)
  ...Object.fromEntries(
    Object.entries(CASTS).flatMap(([name, type]) => {
      const camel = `to${name[0]?.toUpperCase()}${name.slice(1)}`;
      return [[`Image.${name}`, cast(type)], [`Image.${camel}`, cast(type)]];
    }),
  ),

  // Masks, clips, projections
  'Image.updateMask': (a) => {
    a.image('mask');
    return a.image('image');
  },
  'Image.mask': (a) => {
    const image = a.image('image');
    return a.has('mask') ? image : retype(image, () => FLOAT);
  },
  'Image.unmask': (a) => {
    const input = a.image('input');
    const value = a.optional('image', 'value');
    return value ? keepNames(a.fn, input, pairwise(a.fn, input, value, union)) : input;
  },
  'Image.where': (a) => {
    const input = a.image('input');
    pairwise(a.fn, input, a.image('test'), union);
    return keepNames(a.fn, input, pairwise(a.fn, input, a.image('value'), union));
  },
  'Image.clip': (a) => {
    const input = a.image('input');
    const geometry = a.geometry('geometry');
    return input.with({ footprint: geometry, clips: [...input.clips, geometry] });
  },
  'Image.bandNames': (a) => a.image('image').bands.map((b) => b.name),
  'Image.sampleRegions': sampleRegions,
  'Image.clipToBoundsAndScale': clipToBoundsAndScale,
  'Image.reproject': projectionArgs,
  'Image.setDefaultProjection': projectionArgs,

  // Properties never change bands
  'Element.set': passThrough('object'),
  'Element.setMulti': passThrough('object'),
  'Element.copyProperties': passThrough('destination'),
  'Image.copyProperties': passThrough('destination'),

  // Collections
  'ImageCollection.fromImages': (a) => new CollectionV(a.images('images')[0]),
  'ImageCollection.merge': (a) => {
    const c1 = a.collection('collection1');
    return c1.template ? c1 : a.collection('collection2');
  },
  'Collection.filter': (a) => a.collection('collection'),
  'Collection.limit': (a) => (a.value('collection') instanceof FeatureCollectionV ? limitFeatures(a) : a.collection('collection')),
  'Collection.first': (a) => {
    const c = a.value('collection');
    if (c instanceof FeatureCollectionV) return c.features[0] ?? null;
    return template(a.fn, a.collection('collection'));
  },
  'Collection.size': (a) => {
    const c = a.value('collection');
    if (c instanceof FeatureCollectionV) return c.features.length;
    a.collection('collection');
    throw new NotEmulatedError('Collection.size of an ImageCollection');
  },
  // ee.FeatureCollection([features]): system:index "0", "1", …
  Collection: (a) => {
    const list = a.value('features');
    if (!Array.isArray(list)) throw new EeEvaluationError(`${a.fn}, argument 'features': Invalid type. Expected type: List<Element>.`);
    if (list.length > 0 && (list as Value[]).every((x) => x instanceof FeatureCollectionV)) return new NestedCollectionV(list as FeatureCollectionV[]);
    return new FeatureCollectionV((list as Value[]).map((f, i) => {
      if (f instanceof FeatureV) return new FeatureV(f.geometry, f.properties, String(i));
      if (f instanceof GeometryV) return new FeatureV(f, {}, String(i));
      throw new NotEmulatedError(`${a.fn} of elements that are not features`);
    }));
  },
  'Collection.map': (a) => {
    const c = a.collection('collection');
    if (!c.template) return c;
    const fn = a.function('baseAlgorithm');
    const name = fn.argumentNames[0];
    if (name === undefined || fn.argumentNames.length !== 1) throw new EeEvaluationError(`${a.fn}: the mapped function must take one argument.`);
    const out = a.graph.call(fn, { [name]: c.template });
    if (out === null && a.boolean('dropNulls', false)) return c;
    if (!(out instanceof ImageV)) throw new NotEmulatedError('Collection.map over images returning something other than an image');
    return new CollectionV(out);
  },
  'ImageCollection.mosaic': shortcut(same),
  'ImageCollection.qualityMosaic': (a) => {
    const t = template(a.fn, a.collection('collection'));
    selectBands(a.fn, t, [a.string('qualityBand')]);
    return t;
  },
  'reduce.min': shortcut(same),
  'reduce.max': shortcut(same),
  'reduce.mode': shortcut(same),
  'reduce.mean': shortcut(toDouble),
  'reduce.median': shortcut(toDouble),
  'reduce.sum': shortcut(sumType),
  'reduce.product': shortcut(toDouble),
  'reduce.count': shortcut(countType),
  'reduce.and': shortcut(() => BOOLEAN),
  'reduce.or': shortcut(() => BOOLEAN),
  'ImageCollection.reduce': (a) => {
    const t = template(a.fn, a.collection('collection'));
    const r = a.reducer('reducer');
    // Single-input reducers prefix each output with the band name: B4_p10, B4_p90, B3_p10, …
    const bands = t.bands.flatMap((b) => r.outputs.map((o) => ({ name: `${b.name}_${o.name}`, type: o.type(b.type) })));
    return t.with({ bands });
  },
  'Reducer.mean': reducer('mean', toDouble),
  'Reducer.median': reducer('median', toDouble),
  'Reducer.min': reducer('min', same),
  'Reducer.max': reducer('max', same),
  'Reducer.mode': reducer('mode', same),
  'Reducer.first': reducer('first', same),
  'Reducer.firstNonNull': reducer('first', same),
  'Reducer.sum': reducer('sum', sumType),
  'Reducer.count': reducer('count', countType),
  'Reducer.stdDev': reducer('stdDev', toDouble),
  'Reducer.minMax': () => new ReducerV([{ name: 'min', type: same }, { name: 'max', type: same }]),
  'Reducer.percentile': (a) => {
    const ps = a.numbers('percentiles');
    const names = a.optional('strings', 'outputNames');
    if (names && names.length !== ps.length) throw new EeEvaluationError(`${a.fn}: outputNames must match percentiles.`);
    return new ReducerV(ps.map((p, i) => ({ name: names?.[i] ?? `p${p}`, type: toDouble })));
  },

  // Filters and dates only choose images; they never change bands.
  'Filter.dateRangeContains': filter,
  'Filter.intersects': filter,
  'Filter.equals': filter,
  'Filter.notEquals': filter,
  'Filter.lessThan': filter,
  'Filter.lessThanOrEquals': filter,
  'Filter.greaterThan': filter,
  'Filter.greaterThanOrEquals': filter,
  'Filter.and': filter,
  'Filter.or': filter,
  'Filter.not': filter,
  'Filter.calendarRange': filter,
  'Filter.inList': filter,
  'Filter.stringContains': filter,
  'Filter.stringStartsWith': filter,
  'Filter.notNull': filter,
  Date: () => new OpaqueV('Date'),
  DateRange: () => new OpaqueV('DateRange'),

  // Geometry
  Projection: (a) => {
    if (a.has('transformWkt')) throw new NotEmulatedError('Projection with transformWkt');
    const crs = a.value('crs');
    const base = crs instanceof ProjectionV ? crs.crs : typeof crs === 'string' ? normalizeCrs(crs) : undefined;
    if (!base) throw new EeEvaluationError(`${a.fn}, argument 'crs': Invalid type. Expected type: String.`);
    return new ProjectionV(base, a.affine('transform'));
  },
  Feature: (a) => {
    const metadata = a.value('metadata');
    if (metadata !== null && (!isRecord(metadata) || isEeObject(metadata as Value))) throw a.wrong('metadata', 'Dictionary<Object>');
    return new FeatureV(a.optional('geometry', 'geometry'), (metadata ?? {}) as Record<string, Value>);
  },
  'GeometryConstructors.Point': (a) => geometryArgs(a, false, 'Point'),
  'GeometryConstructors.MultiPoint': (a) => geometryArgs(a, false, 'MultiPoint'),
  'GeometryConstructors.LineString': (a) => geometryArgs(a, false, 'LineString'),
  'GeometryConstructors.MultiLineString': (a) => geometryArgs(a, false, 'MultiLineString'),
  'GeometryConstructors.LinearRing': (a) => geometryArgs(a, true, 'LinearRing'),
  'GeometryConstructors.Polygon': (a) => geometryArgs(a, true, 'Polygon'),
  'GeometryConstructors.MultiPolygon': (a) => geometryArgs(a, true, 'MultiPolygon'),
  'GeometryConstructors.Rectangle': rectangle,
  'GeometryConstructors.BBox': (a) => {
    const [w, s, e, n] = ['west', 'south', 'east', 'north'].map((k) => a.number(k)) as [number, number, number, number];
    return new GeometryV([{ points: [[w, s], [e, s], [e, n], [w, n]], closed: true }], WGS84_PROJECTION);
  },
  'Geometry.bounds': (a) => {
    const g = a.geometry('geometry');
    const target = a.optional('projection', 'proj') ?? WGS84_PROJECTION;
    const b = boundsOf(pointsIn(g, target.crs));
    const points: [number, number][] = [[b.minX, b.minY], [b.maxX, b.minY], [b.maxX, b.maxY], [b.minX, b.maxY]];
    return new GeometryV([{ points, closed: true }], new ProjectionV(target.crs));
  },
};
