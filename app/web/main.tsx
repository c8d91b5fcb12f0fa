// The example app's entry: the project's URL and anon key (here from the local stack's
// /app-config.json; a real app builds them in), one supabase-js client typed with the
// package's answers, and the app.
import { createClient } from "@supabase/supabase-js";
import { createRoot } from "react-dom/client";
import type { JobsDatabase } from "@jobsdb/client";
import { App } from "./App.tsx";

const config = (await (await fetch("/app-config.json")).json()) as {
  supabaseUrl: string;
  anonKey: string;
};
const supabase = createClient<JobsDatabase>(config.supabaseUrl, config.anonKey);
createRoot(document.getElementById("root")!).render(<App supabase={supabase} />);
