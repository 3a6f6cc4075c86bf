/* ctxapi's desktop pages: what the card and the queue share. Plain JS, no build step.
 * The embedding contract (docs/desktop.md): the page accepts messages only from its own origin
 * and the origins of CTXAPI_FRAME_ANCESTORS; {type: "ctxapi:init", key} gives it the agent's
 * API key, and it tells its parent {source: "ctxapi", type: "ctxapi:…"} about what it did. */
"use strict";

const Desk = (() => {
  const config = JSON.parse(document.getElementById("ctxapi-config").textContent);
  const STORED = "ctxapi.key";
  const framed = window.parent !== window;
  let key = "";
  let bookmarks = "";
  let asking = null;
  const waiting = [];
  const handlers = {};

  class DeskError extends Error {
    constructor(message, code) {
      super(message);
      this.code = code;
    }
  }

  // -- the API key ------------------------------------------------------------------------
  function fromFragment() {
    const fragment = new URLSearchParams(location.hash.slice(1));
    const given = fragment.get("key");
    if (!given) return "";
    fragment.delete("key");
    const rest = fragment.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
    return given;
  }

  function stored() {
    try {
      return sessionStorage.getItem(STORED) || "";
    } catch {
      return "";
    }
  }

  function keep(given) {
    key = given;
    try {
      sessionStorage.setItem(STORED, given);
    } catch {
      /* a sandboxed frame without storage keeps it in memory only */
    }
    if (asking) {
      asking.remove();
      asking = null;
    }
    while (waiting.length) waiting.shift()(key);
  }

  function forget() {
    key = "";
    try {
      sessionStorage.removeItem(STORED);
    } catch {
      /* nothing kept */
    }
  }

  function apiKey() {
    if (key) return Promise.resolve(key);
    const promise = new Promise((resolve) => waiting.push(resolve));
    if (!framed) askForKey("");
    else setTimeout(() => key || askForKey(""), 3000);  // no ctxapi:init from the desktop
    return promise;
  }

  function askForKey(why) {
    if (asking) return;
    const input = h("input", { id: "key", type: "password", autocomplete: "off", required: "" });
    const form = h(
      "form",
      { class: "ask", "aria-labelledby": "ask-title" },
      h("h2", { id: "ask-title" }, "An API key, please"),
      why ? h("p", { class: "bad", role: "alert" }, why) : null,
      h("p", { class: "muted" }, "The desktop usually gives it; ctxapi keys create makes one."),
      h("label", { for: "key" }, "API key"),
      input,
      h("button", { type: "submit" }, "Use this key"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (input.value.trim()) keep(input.value.trim());
    });
    asking = form;
    document.body.prepend(form);
    input.focus();
  }

  // -- the embedding desktop ----------------------------------------------------------------
  function allowed(origin) {
    return origin === location.origin || config.parents.includes(origin);
  }

  function tell(message) {
    if (!framed) return;
    const ancestors = location.ancestorOrigins;
    const origins = ancestors && ancestors.length ? [ancestors[0]] : config.parents;
    for (const origin of origins) {
      if (allowed(origin)) window.parent.postMessage({ source: "ctxapi", ...message }, origin);
    }
  }

  function on(type, handler) {
    handlers[type] = handler;
  }

  window.addEventListener("message", (event) => {
    const data = event.data;
    if (!allowed(event.origin) || !data || typeof data.type !== "string") return;
    if (framed && event.source !== window.parent) return;  // only the desktop framing the page
    if (data.type === "ctxapi:init" && typeof data.key === "string" && data.key) keep(data.key);
    if (handlers[data.type]) handlers[data.type](data);
  });

  // -- GraphQL ------------------------------------------------------------------------------
  async function gql(query, variables, attempt = 1) {
    const given = await apiKey();
    const headers = {
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json, application/json",
      Authorization: "Bearer " + given,
    };
    if (bookmarks) headers["Ctxapi-Bookmarks"] = bookmarks;  // read what was just written
    let response;
    try {
      response = await fetch(config.graphql, {
        method: "POST",
        headers,
        body: JSON.stringify({ query, variables }),
      });
    } catch {
      throw new DeskError("ctxapi cannot be reached: check the connection.", "UNAVAILABLE");
    }
    let body;
    try {
      body = await response.json();
    } catch {
      throw new DeskError(`ctxapi answered ${response.status} without an answer.`, "INTERNAL");
    }
    const first = (body.errors || [])[0];
    const code = first && first.extensions ? first.extensions.code : "";
    if (response.status === 401) {
      forget();
      askForKey("That API key was not accepted: give another.");
      return gql(query, variables);
    }
    if ((response.status === 503 || response.status === 429) && attempt < 4) {
      // Neo4j restarting, plans warming, a busy key: wait as told (at most 3 s), ask again.
      const after = Math.min(Number(response.headers.get("Retry-After")) || 1, 3);
      await new Promise((resolve) => setTimeout(resolve, after * 1000));
      return gql(query, variables, attempt + 1);
    }
    if (first && !body.data) throw new DeskError(first.message, code);
    const written = body.extensions && body.extensions.bookmarks;
    if (written && written.length) bookmarks = written.join(",");
    return body;
  }

  // -- live updates: Server-Sent Events read with fetch, so the key travels in a header ---
  function follow(params, onChange, onStatus) {
    let stopped = false;
    let first = true;
    let delay = 1000;
    const abort = new AbortController();
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

    function dispatch(block) {
      let event = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      if (event === "ready") {
        onStatus("live");
        if (!first) onChange({ event: "reconnected" });  // what was missed meanwhile
        first = false;
      } else if (event === "change") {
        onChange(JSON.parse(data));
      }
    }

    async function run() {
      while (!stopped) {
        try {
          const given = await apiKey();
          const response = await fetch(config.events + "?" + new URLSearchParams(params), {
            headers: { Authorization: "Bearer " + given, Accept: "text/event-stream" },
            signal: abort.signal,
          });
          if (response.status === 401) {
            forget();
            askForKey("That API key was not accepted: give another.");
            continue;
          }
          if (response.status >= 400 && response.status < 500 && response.status !== 429) {
            onStatus("off");  // not this key's to follow (gone, another brand): asking again won't help
            return;
          }
          if (!response.ok) throw new Error(String(response.status));
          const reader = response.body.getReader();
          const decoder = new TextDecoder();
          let buffer = "";
          while (!stopped) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += decoder.decode(value, { stream: true });
            let end;
            while ((end = buffer.indexOf("\n\n")) >= 0) {
              dispatch(buffer.slice(0, end));
              buffer = buffer.slice(end + 2);
            }
          }
          delay = 250;  // the stream ended on time: come straight back
        } catch {
          if (stopped) return;
          onStatus("reconnecting");
          delay = Math.min(delay * 2, 15000);
        }
        if (!stopped) await sleep(delay);
      }
    }
    run();
    return () => {  // the page follows something else now: the stream ends at once
      stopped = true;
      abort.abort();
    };
  }

  // -- the page: elements, words, numbers -------------------------------------------------
  function h(tag, props, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") element.textContent = value;
      else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else element.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  }

  const SPELLED = { SMS: "SMS", VIP: "VIP", IN_STORE: "In store" };
  function words(value) {
    if (!value) return "";
    if (SPELLED[value]) return SPELLED[value];
    const text = String(value).toLowerCase().replaceAll("_", " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function money(value) {
    if (!value) return "";
    try {
      const style = { style: "currency", currency: value.currency };
      return new Intl.NumberFormat(undefined, style).format(Number(value.amount));
    } catch {
      return value.amount + " " + value.currency;
    }
  }

  const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  let serverNow = null;  // the API's "now" (insights.asOf): fixed in demos and tests
  function clock(iso) {
    serverNow = iso ? Date.parse(iso) : null;
  }
  function ago(iso) {
    if (!iso) return "";
    const seconds = (Date.parse(iso) - (serverNow || Date.now())) / 1000;
    const units = [
      ["year", 31536000],
      ["month", 2592000],
      ["day", 86400],
      ["hour", 3600],
      ["minute", 60],
    ];
    for (const [unit, size] of units) {
      if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
    }
    return "just now";
  }

  function when(iso) {
    if (!iso) return null;
    const text = new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    return h("time", { datetime: iso, title: text }, ago(iso));
  }

  function status(text) {
    const line = document.getElementById("live");
    if (line) line.textContent = text;
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  const given = fromFragment() || stored() || config.devKey;
  if (given) keep(given);

  return { config, gql, follow, tell, on, h, words, money, when, ago, clock, status, uuid, DeskError };
})();
