// The production RpcClient: supabase-js against the project's REST endpoint (PostgREST).
// supabase-js is pinned to the version the generated types are made for (tools/package.json
// pins postgres-meta, the generator).
import { createClient } from "npm:@supabase/supabase-js@2.119.1";
import type { Database } from "../../types/database.ts";
import type { Args, FnName, RpcAnswer, RpcClient } from "./rpc.ts";

function env(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`the function's environment lacks ${name}`);
  return value;
}

/** As the caller: the anon key plus the request's own Authorization (the user's JWT). */
export function asCaller(authorization: string): RpcClient {
  return wrap(env("SUPABASE_ANON_KEY"), { Authorization: authorization });
}

/** As service_role (the job-callback relay only; never for a user's request). */
export function asServiceRole(): RpcClient {
  return wrap(env("SUPABASE_SERVICE_ROLE_KEY"), {});
}

function wrap(key: string, headers: Record<string, string>): RpcClient {
  const client = createClient<Database>(env("SUPABASE_URL"), key, {
    global: { headers },
    auth: { persistSession: false, autoRefreshToken: false },
  });
  return {
    async rpc<F extends FnName>(fn: F, args: Args<F>, options?: { get?: boolean }) {
      const { data, error } = await client.rpc(fn, args as never, { get: options?.get });
      if (error) {
        return {
          data: null,
          error: {
            code: error.code,
            message: error.message,
            details: error.details ?? null,
            hint: error.hint ?? null,
          },
        } as RpcAnswer<F>;
      }
      return { data, error: null } as RpcAnswer<F>;
    },
  };
}
