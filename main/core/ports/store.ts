/**
 * The Store port: a job's state (snapshot + journal). `append` applies entries to `state` at once and
 * resolves when they are durable. Adapters: FileJobRepository (real runs), MemoryJobRepository (tests).
 */
export type { JobRepository as Store } from '../job/repository';
