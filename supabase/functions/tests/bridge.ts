// The RpcClient the tests give the handlers: each call goes over loopback to
// tests/py/postgrest_bridge.py, which runs against the real database exactly the SQL
// PostgREST runs for it (authenticator switching to the JWT's role, request.jwt.claims,
// named arguments, read-only for GET). No mock of the database.
import type { Args, FnName, RpcAnswer, RpcClient } from "../_shared/rpc.ts";

export const env = (name: string): string => {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set: run these tests through pytest`);
  return value;
};

export function bridgeClient(jwt: string | null): RpcClient {
  return {
    async rpc<F extends FnName>(fn: F, args: Args<F>, options?: { get?: boolean }) {
      const res = await fetch(`${env("BRIDGE_URL")}/rpc/${fn}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ args, jwt, get: options?.get ?? false }),
      });
      const body = await res.json();
      return ("error" in body
        ? { data: null, error: body.error }
        : { data: body.data, error: null }) as RpcAnswer<F>;
    },
  };
}

/** What the production clientFor does with the request's Authorization header. */
export const asCaller = (authorization: string): RpcClient =>
  bridgeClient(authorization.replace(/^Bearer\s+/i, ""));
