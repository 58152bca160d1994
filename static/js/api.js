// The JSON API of docs/api.md, with the CSRF header on unsafe methods.

import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error ?? {};
    super(error.message || t("The server answered %(status)s.", { status }));
    this.status = status;
    this.code = error.code || "http_error";
    this.field = error.field || null;
  }
}

function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === "csrftoken") return decodeURIComponent(rest.join("="));
  }
  return "";
}

// `body`: a value sent as JSON, or FormData sent as multipart.
export async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, {
      error: { message: t("Cannot reach the server. Check your connection.") },
    });
  }
  if (response.status === 401) {
    window.location.assign(`/accounts/login/?next=${encodeURIComponent(window.location.pathname)}`);
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

const id = (value) => encodeURIComponent(value);

export const api = {
  models: () => request("GET", "/api/models/"),
  me: () => request("GET", "/api/me/"),
  conversations: (query = "") =>
    request("GET", `/api/conversations/${query ? `?q=${encodeURIComponent(query)}` : ""}`),
  createConversation: (title) => request("POST", "/api/conversations/", title ? { title } : {}),
  conversation: (conversationId) => request("GET", `/api/conversations/${id(conversationId)}/`),
  rename: (conversationId, title) =>
    request("PATCH", `/api/conversations/${id(conversationId)}/`, { title }),
  deleteConversation: (conversationId) =>
    request("DELETE", `/api/conversations/${id(conversationId)}/`),
  send: (conversationId, body) =>
    request("POST", `/api/conversations/${id(conversationId)}/messages/`, body),
  stop: (messageId) => request("POST", `/api/messages/${id(messageId)}/stop/`),
  regenerate: (messageId, settings) =>
    request("POST", `/api/messages/${id(messageId)}/regenerate/`, settings),
  selectVersion: (messageId) => request("POST", `/api/messages/${id(messageId)}/select/`),
  edit: (messageId, body) => request("POST", `/api/messages/${id(messageId)}/edit/`, body),
  setSystemPrompt: (conversationId, systemPrompt) =>
    request("PATCH", `/api/conversations/${id(conversationId)}/`, { system_prompt: systemPrompt }),
  settings: () => request("GET", "/api/settings/"),
  saveSettings: (body) => request("PATCH", "/api/settings/", body),
  presets: () => request("GET", "/api/presets/"),
  createPreset: (body) => request("POST", "/api/presets/", body),
  deletePreset: (presetId) => request("DELETE", `/api/presets/${id(presetId)}/`),
  startFromPreset: (presetId) => request("POST", "/api/conversations/", { preset: presetId }),
  upload: (file) => {
    const form = new FormData();
    form.append("file", file);
    return request("POST", "/api/uploads/", form);
  },
  shares: (conversationId) => request("GET", `/api/conversations/${id(conversationId)}/shares/`),
  share: (conversationId, body) =>
    request("POST", `/api/conversations/${id(conversationId)}/shares/`, body),
  revokeShare: (linkId) => request("DELETE", `/api/share-links/${id(linkId)}/`),
};
