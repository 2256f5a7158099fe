// State Management: a state that lasts between runs, dotted keys, a view with
// the secrets redacted (for logs), and defaults merged under saved settings.
//   llmspell run examples/js/state_management.js                 (in memory)
//   mkdir -p /tmp/llmspell-demo
//   llmspell run examples/js/state_management.js --allow-read=/tmp/llmspell-demo \
//     --allow-write=/tmp/llmspell-demo --param path=/tmp/llmspell-demo/state.db
// Run the second one twice: the visit count goes on where it stopped (a .db path
// is SQLite, another one a JSON file; a relative path starts at the spell's folder).
const st = await state.create({path: params.path});

const visits = ((await st.get("stats.visits")) ?? 0) + 1;
await st.set("stats.visits", visits);
await st.set("session.user", {name: "ada", api_key: "sk-not-a-real-key"});
await st.set("context.topic", params.topic ?? "rust ownership");
const history = (await st.get("context.history")) ?? [];
history.push(`visit ${visits}`);
await st.set("context.history", history);
if (visits === 1) await st.set("settings.theme", "dark");

// A copy to show: values under keys that look secret (api_key, password, token, ...) are redacted.
console.log("state: " + json.encode(await (await st.transform({type: "sanitize"})).all()));

// Defaults under what the user saved: where both have a key, "ours" (the saved state) wins.
const defaults = {settings: {theme: "light", language: "en", page_size: 20}};
const settings = await (await st.merge(defaults, {strategy: "deep", conflictResolution: "ours"})).get("settings");
console.log("settings: " + json.encode(settings));

// Only what a report needs, flattened to dotted keys.
const kept = await st.transform({type: "filter", keys: ["stats", "context.topic"]});
const report = await kept.transform({type: "flatten"});
console.log("report: " + json.encode(await report.all()));

return {visits, persistence: st.persistence, keys: await st.keys(), settings};
