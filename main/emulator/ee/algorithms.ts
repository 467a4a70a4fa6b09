/**
 * The algorithm catalog the emulator serves on `GET /v1/projects/{p}/algorithms`: the entries of Google's
 * catalog for exactly the functions the evaluator follows, copied unchanged by scripts/emulator-catalog.mjs.
 * Serving only these keeps the unmodified client honest: an expression it cannot build from this subset is
 * one the emulator could not evaluate either ("Unknown built-in function name" on the client side).
 */
import catalogJson from './algorithms.json';

/** One `AlgorithmArgument` of the REST API. */
export interface AlgorithmArgument {
  readonly argumentName: string;
  readonly type: string;
  readonly description?: string;
  readonly optional?: boolean;
  readonly defaultValue?: unknown;
}

/** One `Algorithm` of the REST API (docs/earth-engine-client.md#initialisation-and-the-algorithm-catalog). */
export interface Algorithm {
  /** `algorithms/<Name>`. */
  readonly name: string;
  readonly description: string;
  readonly returnType: string;
  readonly arguments?: readonly AlgorithmArgument[];
  readonly hidden?: boolean;
  readonly deprecated?: boolean;
  readonly deprecationReason?: string;
  readonly preview?: boolean;
  readonly sourceCodeUri?: string;
}

export interface ListAlgorithmsResponse {
  readonly algorithms: readonly Algorithm[];
}

const catalog = catalogJson as unknown as ListAlgorithmsResponse;
const byName = new Map(catalog.algorithms.map((a) => [a.name.slice('algorithms/'.length), a]));

/** The response body of `GET /v1/projects/{p}/algorithms`. */
export function listAlgorithmsResponse(): ListAlgorithmsResponse {
  return catalog;
}

/** The catalog entry of a function (`Image.select`), if the emulator serves it. */
export function algorithm(functionName: string): Algorithm | undefined {
  return byName.get(functionName);
}
