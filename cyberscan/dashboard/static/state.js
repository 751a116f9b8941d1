// What the dashboard modules share: the view state and the refresh scheduler.
// Loaders register themselves by name (see dashboard.js), so no module imports another
// just to reload it.

export const state = {
  status: "pending",
  queueCursor: null,
  usersCursor: null,
  query: "",
  hours: 24,
  summary: null,
  stats: null,
  seenFlags: new Set(),
  firstQueueLoad: true,
  statsAt: 0,
  admin: "",
  appealStatus: "open",
  appealsCursor: null,
  reportsCursor: null,
};

const loaders = {};
let pending = {};
let timer = null;

export function registerLoaders(map) {
  Object.assign(loaders, map);
}

// Coalesce bursts (a socket event plus a poll) into one reload of each part.
export function refresh(parts) {
  Object.keys(parts).forEach(function (key) {
    if (parts[key]) pending[key] = true;
  });
  if (timer) return;
  timer = setTimeout(function () {
    const run = pending;
    pending = {};
    timer = null;
    Object.keys(run).forEach(function (key) {
      loaders[key]().catch(function (error) {
        console.warn("refresh " + key + " failed:", error.message);
      });
    });
  }, 200);
}
