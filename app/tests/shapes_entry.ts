// What app/tests/answer_shapes.mjs reads: the answer types, from the client's own types.
export type { ErrorBody, JobsFunctions, JobStatusBroadcast, Json } from "../client/types.ts";
