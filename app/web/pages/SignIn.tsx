import { useState } from "react";
import type { JobsSupabaseClient } from "@jobsdb/client";

export function SignIn({ supabase }: { supabase: JobsSupabaseClient }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      className="sign-in"
      onSubmit={async (e) => {
        e.preventDefault();
        const { error } = await supabase.auth.signInWithPassword({ email, password });
        setError(error ? error.message : null);
      }}
    >
      <h1>Sign in</h1>
      <label>
        Email <input name="email" value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label>
        Password{" "}
        <input
          name="password"
          type="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      <button type="submit">Sign in</button>
      {error && <p className="error" role="alert">{error}</p>}
    </form>
  );
}
