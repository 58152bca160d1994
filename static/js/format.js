// Numbers, durations, money and dates as people read them.

const integer = new Intl.NumberFormat("en-US");

export function formatInt(value) {
  return integer.format(value ?? 0);
}

export function formatSeconds(ms) {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}

export function formatCost(cost, currency) {
  if (cost === null || cost === undefined || cost === "") return "";
  const value = Number(cost);
  const symbol = { USD: "$", CNY: "¥" }[currency || "USD"] ?? `${currency} `;
  if (value === 0) return `${symbol}0`;
  if (value < 0.0001) return `<${symbol}0.0001`;
  return `${symbol}${value < 0.01 ? value.toPrecision(2) : value.toFixed(value < 1 ? 4 : 2)}`;
}

export function parseTime(iso) {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(ms) ? null : ms;
}

const DAY = 24 * 60 * 60 * 1000;

function startOfDay(ms) {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

// The sidebar's heading for a conversation last updated at `iso`.
export function dateGroup(iso, now = Date.now()) {
  const ms = parseTime(iso) ?? now;
  const today = startOfDay(now);
  if (ms >= today) return "Today";
  if (ms >= today - DAY) return "Yesterday";
  if (ms >= today - 7 * DAY) return "Previous 7 days";
  if (ms >= today - 30 * DAY) return "Previous 30 days";
  return new Date(ms).toLocaleDateString("en-US", { month: "long", year: "numeric" });
}

export function formatDateTime(iso) {
  const ms = parseTime(iso);
  if (ms === null) return "";
  return new Date(ms).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" });
}
