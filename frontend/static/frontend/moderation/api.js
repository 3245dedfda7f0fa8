// The moderator console's HTTP API (moderation/api.py): JSON in and out, the CSRF token from the
// csrftoken cookie, and every refusal turned into an ApiError with the server's own sentence.

export class ApiError extends Error {
  constructor(code, message, status = 0) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  // The logout form in the header carries one too (e.g. if cookies were cleared mid-shift).
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

const FALLBACK = {
  401: "You're logged out. Log in again to go on.",
  403: "The server refused this. Reload the page and try again.",
  404: "This item no longer exists.",
  409: "Someone else changed this item. It has been reloaded.",
};

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRFToken"] = csrfToken();
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError("network", "Couldn't reach the server. Check the connection and try again.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // Django's own CSRF page, a proxy error page…: not JSON.
  }
  if (!response.ok || data === null) {
    const error = data && data.error;
    throw new ApiError(
      (error && error.code) || `http_${response.status}`,
      (error && error.message) || FALLBACK[response.status] || `Something went wrong (error ${response.status}). Try again.`,
      response.status,
    );
  }
  return data;
}

export const flagAction = (flagId, action, body = {}) =>
  api(`/api/moderation/flags/${flagId}/${action}`, { method: "POST", body });
