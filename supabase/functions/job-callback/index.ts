import { asServiceRole } from "../_shared/supabase.ts";
import { handleJobCallback, parseSecrets } from "./handler.ts";

const secrets = parseSecrets(Deno.env.get("JOB_CALLBACK_SECRETS"));
const client = asServiceRole();

Deno.serve((req) => handleJobCallback(req, client, secrets));
