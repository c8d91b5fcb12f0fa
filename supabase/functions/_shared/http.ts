// HTTP answers of the edge functions, and the one mapping from an error code to a status.
import type { RpcError } from "./rpc.ts";

export const corsHeaders = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers": "authorization, x-client-info, apikey, content-type",
  "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
};

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...corsHeaders, "Content-Type": "application/json" },
  });
}

/** An error the function itself detects (code is one of the documented edge codes). */
export function fail(status: number, code: string, message: string, hint?: string): Response {
  return json(status, { code, message, details: null, hint: hint ?? null });
}

/**
 * The HTTP status for an error code, by PostgREST's own rules (so the app sees the same status
 * through an edge function as through supabase.rpc): PTnnn -> nnn; 42501 -> 401 for an
 * anonymous caller, else 403; 23505/23503 -> 409; class 22 and 23514 and P0001 -> 400;
 * 25006 -> 405; 42883 and PGRST202 (no function with these arguments) -> 404; PGRST301/302
 * (bad or missing JWT) -> 401. Anything else is a server fault: 500.
 */
export function statusFor(code: string, anonymous: boolean): number {
  const pt = /^PT([1-5][0-9][0-9])$/.exec(code);
  if (pt) return Number(pt[1]);
  if (code === "42501") return anonymous ? 401 : 403;
  if (code === "23505" || code === "23503") return 409;
  if (code.startsWith("22") || code === "23514" || code === "P0001") return 400;
  if (code === "25006") return 405;
  if (code === "42883" || code === "PGRST202") return 404;
  if (code === "PGRST301" || code === "PGRST302") return 401;
  return 500;
}

/** A database error as the app's answer: the status above and PostgREST's body (4xx), or an
 *  opaque 500 that reveals nothing of the server. */
export function fromRpcError(error: RpcError, anonymous: boolean): Response {
  const status = statusFor(error.code, anonymous);
  if (status >= 500) {
    console.error("rpc failed", error);
    return fail(500, "internal", "internal error");
  }
  return json(status, error);
}

/** The request body as a JSON object, or the 400 answer to give. */
export async function jsonObject(
  req: Request,
): Promise<{ body: Record<string, unknown> } | { answer: Response }> {
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    return { answer: fail(400, "invalid_json", "the request body is not JSON") };
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return { answer: fail(400, "invalid_json", "the request body must be a JSON object") };
  }
  return { body: body as Record<string, unknown> };
}

/** 400 for a field the function does not take (instead of PostgREST's 404 PGRST202). */
export function unknownFields(
  body: Record<string, unknown>,
  allowed: readonly string[],
): Response | null {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length === 0) return null;
  return fail(
    400,
    "unknown_field",
    `unknown field ${unknown.map((k) => JSON.stringify(k)).join(", ")}`,
    `allowed: ${allowed.join(", ")}`,
  );
}

/** The JWT's role claim, read (not verified: PostgREST verifies) to tell 401 from 403. */
export function jwtRole(authorization: string): string | null {
  const token = authorization.replace(/^Bearer\s+/i, "");
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const text = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const claims = JSON.parse(text);
    return typeof claims?.role === "string" ? claims.role : null;
  } catch {
    return null;
  }
}

/** The caller's `Authorization: Bearer <jwt>` header, or the 401 answer to give. */
export function bearer(req: Request): { authorization: string } | { answer: Response } {
  const authorization = req.headers.get("Authorization") ?? "";
  if (!/^Bearer\s+\S+\.\S+\.\S+$/i.test(authorization)) {
    return {
      answer: fail(401, "no_authorization", "sign in: the request needs the user's JWT",
        "send Authorization: Bearer <access token>"),
    };
  }
  return { authorization };
}
