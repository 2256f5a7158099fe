-- State Management: a state that lasts between runs, dotted keys, a view with
-- the secrets redacted (for logs), and defaults merged under saved settings.
--   llmspell run examples/lua/state_management.lua                 (in memory)
--   mkdir -p /tmp/llmspell-demo
--   llmspell run examples/lua/state_management.lua --allow-read=/tmp/llmspell-demo \
--     --allow-write=/tmp/llmspell-demo --param path=/tmp/llmspell-demo/state.db
-- Run the second one twice: the visit count goes on where it stopped (a .db path
-- is SQLite, another one a JSON file; a relative path starts at the spell's folder).
local st = state.create({path = params.path})

local visits = (st:get("stats.visits") or 0) + 1
st:set("stats.visits", visits)
st:set("session.user", {name = "ada", api_key = "sk-not-a-real-key"})
st:set("context.topic", params.topic or "rust ownership")
local history = st:get("context.history") or {}
history[#history + 1] = "visit " .. visits
st:set("context.history", history)
if visits == 1 then st:set("settings.theme", "dark") end

-- A copy to show: values under keys that look secret (api_key, password, token, ...) are redacted.
print("state: " .. json.encode(st:transform({type = "sanitize"}):all()))

-- Defaults under what the user saved: where both have a key, "ours" (the saved state) wins.
local defaults = {settings = {theme = "light", language = "en", page_size = 20}}
local settings = st:merge(defaults, {strategy = "deep", conflictResolution = "ours"}):get("settings")
print("settings: " .. json.encode(settings))

-- Only what a report needs, flattened to dotted keys.
local report = st:transform({type = "filter", keys = {"stats", "context.topic"}}):transform({type = "flatten"})
print("report: " .. json.encode(report:all()))

return {visits = visits, persistence = st.persistence, keys = st:keys(), settings = settings}
