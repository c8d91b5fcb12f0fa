// The one thing a handler needs from Supabase: call an RPC of `public`, typed by the generated
// Database type (supabase/types/database.ts, made by Supabase's own generator).
// Production passes a supabase-js client (./supabase.ts); tests pass one that runs the same
// SQL PostgREST runs against a real database. Handlers take it as a parameter.
import type { Database } from "../../types/database.ts";

export type Fns = Database["public"]["Functions"];
export type FnName = keyof Fns;
export type Args<F extends FnName> = Fns[F]["Args"];

/** PostgREST's error body: `code` is the SQLSTATE (or PGRSTnnn for PostgREST's own). */
export interface RpcError {
  code: string;
  message: string;
  details: string | null;
  hint: string | null;
}

export type RpcAnswer<F extends FnName> =
  | { data: Fns[F]["Returns"]; error: null }
  | { data: null; error: RpcError };

export interface RpcClient {
  /** `get: true` is PostgREST's GET call: a read-only transaction (stable functions). */
  rpc<F extends FnName>(
    fn: F,
    args: Args<F>,
    options?: { get?: boolean },
  ): Promise<RpcAnswer<F>>;
}
