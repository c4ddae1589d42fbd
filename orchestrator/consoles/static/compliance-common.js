// What the compliance console's scripts share: the gateway's API, the CSRF token, and building
// the page from what the API returns as text (createElement / textContent), never as markup:
// audit records hold agent- and customer-supplied strings.

export const API = "/api/console/compliance";
export const csrf = document.querySelector('meta[name="csrf-token"]').content;
export const $ = (id) => document.getElementById(id);

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "onclick") node.addEventListener("click", value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Loads of one view are numbered: an answer that arrives after a newer load of the same view began
// is dropped, or a slow first answer would replace a newer one (another filter's traces, a policy's
// mode or the changes as they were before the officer acted). Call the result at the start of a
// load; the function it returns says whether that load is still the newest.
export function newestOnly() {
  let latest = 0;
  return () => {
    const mine = ++latest;
    return () => mine === latest;
  };
}

// One load of a view: fetch ``path`` and ``render`` the answer, or show the error in ``status``,
// unless a newer load of the view began meanwhile (``newest``, from ``newestOnly``).
export async function loadView(newest, status, path, render) {
  try {
    const body = await api(path);
    if (!newest()) return;
    render(body);
    status.textContent = "";
  } catch (error) {
    if (!newest()) return;
    status.className = "notice error";
    status.textContent = error.message;
  }
}

export async function api(path, options) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  if (response.status === 401) {
    window.location.assign("/console/sign-in?next=/console/compliance");
    throw new Error("Your session ended; sign in again.");
  }
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (!response.ok) {
    const error = body && body.error ? body.error : {};
    throw new Error((error.message || `The request failed (${response.status})`) + (error.hint ? ` — ${error.hint}` : ""));
  }
  return body;
}

export function localTime(iso) {
  const when = new Date(iso);
  return Number.isNaN(when.getTime()) ? iso : when.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}
