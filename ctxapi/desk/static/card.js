/* The customer card: who is this, what they bought, what happened last, what to do now.
 * Opened with ?email= ?phone= (&region=) ?handle= ?chat= ?messaging= ?externalId= ?order=
 * or ?customer=; &channel= preselects the channel of the contact (docs/desktop.md). */
"use strict";

(() => {
  const { h, words, money, when, gql, tell } = Desk;
  const main = document.getElementById("card");
  const IDENTITIES = ["email", "phone", "handle", "chat", "messaging", "externalId"];
  const CHANNELS = ["PHONE", "EMAIL", "CHAT", "SMS", "SOCIAL", "MESSAGING", "IN_STORE", "WEB"];
  const STATUSES = ["RESOLVED", "OPEN", "ESCALATED", "UNANSWERED", "ABANDONED"];
  const QUEUE_ITEMS = ["SHIPMENT", "RETURN", "CASE", "ORDER"];
  // The actions that are a proactive queue item's: done by telling the customer (markContacted).
  const PROACTIVE = ["PROACTIVE_DELIVERY_UPDATE", "CONFIRM_REFUND_TIMING", "FOLLOW_UP_OPEN_CASE"];
  const CANDIDATES = `query CardCandidates($identity: IdentityInput!) {
  customersBy(identity: $identity) { confidence customer { id name tier } } }`;
  const BY_ORDER = `query CardOrder($number: String!) { order(number: $number) { customer { id } } }`;
  const RECORD = `mutation CardRecord($input: RecordInteractionInput!) {
  recordInteraction(input: $input) { replayed userErrors { field message code } interaction { id } } }`;
  const CONTACTED = `mutation CardContacted($input: MarkContactedInput!) {
  markContacted(input: $input) { replayed userErrors { field message code } interaction { id } } }`;

  const LIVE = { live: "Live: changes appear as they happen.", reconnecting: "Reconnecting…",
    off: "Not live: reload the card to see changes." };
  let params = new URLSearchParams(location.search);
  let current = null;  // {id, shared: {kind, count} | null}
  let drawn = 0;
  let stopFollowing = null;
  let refresh = null;

  // -- finding the customer -----------------------------------------------------------------
  async function resolve() {
    if (params.get("customer")) return { id: params.get("customer") };
    if (params.get("order")) {
      const body = await gql(BY_ORDER, { number: params.get("order") });
      const order = body.data && body.data.order;
      return order ? { id: order.customer.id } : { missing: "No order has that number." };
    }
    for (const kind of IDENTITIES) {
      const value = params.get(kind);
      if (!value) continue;
      const identity = { [kind]: value };
      if (kind === "phone" && params.get("region")) identity.region = params.get("region");
      const body = await gql(CANDIDATES, { identity });
      const found = (body.data && body.data.customersBy) || [];
      if (!found.length) return { missing: `Nobody has this ${words(kind).toLowerCase()}.` };
      if (found.length === 1) return { id: found[0].customer.id };
      return { candidates: found, kind };
    }
    return { missing: "Open the card with ?email=, ?phone=, ?handle=, ?order= or ?customer=." };
  }

  function choose(candidates, kind) {
    const list = h("ul", { class: "choices" });
    for (const { customer, confidence } of candidates) {
      const sure = confidence == null ? "" : ` · ${Math.round(confidence * 100)} % sure`;
      const pick = () => open({ id: customer.id, shared: { kind, count: candidates.length } });
      list.append(h("li", {}, h("button", { type: "button", onclick: pick },
        `${customer.name} (${words(customer.tier)}${sure})`)));
    }
    main.replaceChildren(
      h("section", { class: "warn", role: "alert" },
        h("h1", {}, "Confirm who is speaking"),
        h("p", {}, `This ${words(kind).toLowerCase()} belongs to ${candidates.length} customers.`
          + " Ask for a name or an order number, then pick:"),
        list));
    main.setAttribute("aria-busy", "false");
    list.querySelector("button").focus();
  }

  // -- drawing the card ----------------------------------------------------------------------
  let generation = 0;  // which open() a read belongs to: a late answer for another is dropped

  async function load() {
    const asked = generation;
    const body = await gql(Desk.config.document, { id: current.id });
    if (asked !== generation) return;
    const customer = body.data && body.data.customer;
    if (!customer) {
      notFound("No customer of this key's brands has that id.");
      return;
    }
    draw(customer);
  }

  function draw(c) {
    Desk.clock(c.insights.asOf);
    const focused = document.activeElement && document.activeElement.id;
    const body = h("div", { id: "card-body" }, who(c), todo(c),
      h("div", { class: "columns" }, bought(c), happened(c)));
    const form = document.getElementById("record");
    if (form && main.dataset.customer === c.id) {
      document.getElementById("card-body").replaceWith(body);  // what the agent types stays
    } else {
      main.replaceChildren(body, recordForm(c));
    }
    main.setAttribute("aria-busy", "false");
    main.dataset.customer = c.id;
    drawn += 1;
    main.dataset.drawn = String(drawn);
    if (drawn === 1) performance.mark("ctxapi:card-drawn");
    const again = focused && document.getElementById(focused);
    if (again && again !== document.activeElement) again.focus();
    tell({ type: "ctxapi:card", state: "drawn", customer: c.id });
  }

  function who(c) {
    const value = c.insights.value;
    const badges = [h("span", { class: c.tier === "VIP" ? "badge vip" : "badge tier" }, words(c.tier))];
    if (value.vip && c.tier !== "VIP") badges.push(h("span", { class: "badge vip", title: value.vipReasons.join("; ") }, "VIP"));
    const warnings = [];
    if (c.mergedInto) {
      warnings.push(h("p", { class: "warn", role: "alert" },
        `Merged into ${c.mergedInto.name} (${c.mergedInto.id}): `,
        h("a", { href: link({ customer: c.mergedInto.id }) }, "open their card")));
    }
    if (current.shared) {
      warnings.push(h("p", { class: "warn", role: "alert" },
        `Shared ${words(current.shared.kind).toLowerCase()}: ${current.shared.count} customers have it.`
        + ` You confirmed this is ${c.name}. `,
        h("a", { href: location.href }, "Not them?")));
    }
    for (const shared of c.insights.shared.sharedIdentities) {
      warnings.push(h("p", { class: "warn", role: "alert" },
        `Confirm who is speaking: the ${words(shared.kind).toLowerCase()} ${shared.value} is also`
        + ` used by ${shared.otherCustomers} other customer${shared.otherCustomers === 1 ? "" : "s"}.`));
    }
    const stats = c.stats;
    const facts = [
      stats.lifetimeValue ? `${money(stats.lifetimeValue)} lifetime` : null,
      `${stats.orderCount} order${stats.orderCount === 1 ? "" : "s"}`,
      `${stats.openCases} open case${stats.openCases === 1 ? "" : "s"}`,
      c.insights.churnRisk.level !== "LOW" ? `churn risk ${words(c.insights.churnRisk.level).toLowerCase()}` : null,
    ].filter(Boolean);
    return h("header", { class: "who" },
      h("h1", { id: "name" }, c.name, " ", ...badges),
      h("p", { class: "muted" }, [c.id, c.brand ? c.brand.name : null, ...facts].filter(Boolean).join(" · ")),
      value.vip && value.vipReasons.length ? h("p", { class: "reasons" }, "VIP: " + value.vipReasons.join("; ")) : null,
      ...warnings);
  }

  function todo(c) {
    const actions = c.insights.nextBestActions;
    const list = h("ol", { class: "actions" });
    actions.forEach((action, n) => {
      const proactive = PROACTIVE.includes(action.kind);
      const item = proactive && action.about.find((about) => QUEUE_ITEMS.includes(about.type));
      const about = action.about.map((a) => a.label || `${words(a.type)} ${a.id}`).join(", ");
      const incentive = action.incentive ? ` Offer ${money(action.incentive)}.` : "";
      list.append(h("li", { class: n === 0 ? "first" : "" },
        h("strong", {}, words(action.kind)),
        h("span", {}, ` — ${action.reason}.${incentive}`),
        about ? h("span", { class: "muted" }, ` (${about})`) : null,
        item ? h("button", {
          type: "button", class: "small", id: `done-${n}`,
          onclick: () => prepare({ item: { type: item.type, id: item.id }, summary: `${words(action.kind)}: ${action.reason}` }),
        }, "Mark contacted") : null));
    });
    return h("section", { class: "now", "aria-labelledby": "now-title" },
      h("h2", { id: "now-title" }, "What to do now"),
      actions.length ? list : h("p", { class: "muted" }, "Nothing pressing."));
  }

  function bought(c) {
    const orders = c.orders.edges.map(({ node: o }) => h("li", {},
      h("div", {}, h("strong", {}, o.number), ` · ${words(o.status)} · ${money(o.total)} · `, when(o.placedAt)),
      h("div", { class: "muted" }, o.items.map((i) => `${i.quantity}× ${i.product ? i.product.name : "?"}`).join(", ")),
      ...o.shipments.map((s) => {
        const bad = s.late || s.condition === "DAMAGED";
        const flags = [s.late ? "LATE" : null, s.condition === "DAMAGED" ? "DAMAGED" : null].filter(Boolean);
        return h("div", { class: bad ? "parcel bad" : "parcel" },
          `Parcel ${s.carrier}${s.trackingNumber ? " " + s.trackingNumber : ""}: ${words(s.status)}`,
          flags.length ? h("strong", {}, " " + flags.join(" · ")) : null,
          s.deliveredAt ? [" · delivered ", when(s.deliveredAt)] : s.promisedAt ? [" · promised ", when(s.promisedAt)] : null);
      }),
      ...o.returns.map((r) => h("div", { class: "return" },
        `Return: ${r.reason} · ${words(r.status)}`,
        r.refund ? ` · refund ${money(r.refund)}` : null,
        r.refundedAt ? [" ", when(r.refundedAt)] : null))));
    return h("section", { "aria-labelledby": "bought-title" },
      h("h2", { id: "bought-title" }, "What they bought"),
      orders.length ? h("ul", { class: "plain" }, orders) : h("p", { class: "muted" }, "No orders."));
  }

  function happened(c) {
    const latest = new Map();
    for (const { node } of c.interactions.edges) if (!latest.has(node.channel)) latest.set(node.channel, node);
    const contacts = [...latest.values()].map((i) => h("li", { "data-interaction": i.id },
      h("strong", {}, words(i.channel)), " ", when(i.occurredAt),
      ` · ${words(i.direction)} · ${words(i.status)}${i.agent ? " · " + i.agent.name : ""}`,
      h("div", {}, i.summary)));
    const effort = c.insights.effort;
    const cases = c.cases.map((k) => h("li", {},
      h("strong", {}, k.id), ` ${k.subject} · ${words(k.status)} · ${words(k.priority)} priority · opened `,
      when(k.openedAt), ` · ${k.contacts.length} contact${k.contacts.length === 1 ? "" : "s"}`,
      k.channels.length ? ` over ${k.channels.map(words).join(", ")}` : ""));
    return h("section", { "aria-labelledby": "last-title" },
      h("h2", { id: "last-title" }, "What happened last"),
      contacts.length ? h("ul", { class: "plain contacts" }, contacts) : h("p", { class: "muted" }, "No contacts yet."),
      h("h3", {}, "Open cases ", h("span", { class: `badge effort ${effort.level.toLowerCase()}` },
        `effort ${words(effort.level).toLowerCase()}`)),
      cases.length ? h("ul", { class: "plain" }, cases) : h("p", { class: "muted" }, "None open."));
  }

  // -- writing back -------------------------------------------------------------------------
  let pending = null;  // {mode, item, idempotencyKey, body}: a retry of the same input reuses the key

  function select(id, values, chosen) {
    return h("select", { id, name: id }, values.map((v) => h("option", { value: v, selected: v === chosen }, words(v))));
  }

  function recordForm(c) {
    const preset = (params.get("channel") || "PHONE").toUpperCase();
    const form = h("form", { id: "record", class: "record", "aria-labelledby": "record-title" },
      h("h2", { id: "record-title" }, "Record this contact"),
      h("p", { id: "record-about", class: "muted" }),
      h("div", { class: "row" },
        h("label", {}, "Channel ", select("channel", CHANNELS, CHANNELS.includes(preset) ? preset : "PHONE")),
        h("label", { id: "direction-label" }, "Direction ", select("direction", ["INBOUND", "OUTBOUND"], "INBOUND")),
        h("label", { id: "status-label" }, "Outcome ", select("status", STATUSES, "RESOLVED"))),
      h("label", { for: "summary" }, "What happened"),
      h("textarea", { id: "summary", name: "summary", rows: "2", required: true, maxlength: "2000" }),
      h("div", { class: "row" },
        h("button", { type: "submit", id: "save" }, "Save"),
        h("button", { type: "button", id: "cancel", class: "quiet", hidden: true, onclick: () => prepare(null) }, "Cancel")),
      h("p", { id: "record-result", role: "status" }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      save(c, form);
    });
    return form;
  }

  function prepare(markContacted) {
    const form = document.getElementById("record");
    pending = null;
    form.dataset.item = markContacted ? JSON.stringify(markContacted.item) : "";
    document.getElementById("record-about").textContent = markContacted
      ? `Marking ${words(markContacted.item.type).toLowerCase()} ${markContacted.item.id} contacted: say what the customer was told.`
      : "";
    document.getElementById("direction-label").hidden = Boolean(markContacted);
    document.getElementById("status-label").hidden = Boolean(markContacted);
    document.getElementById("cancel").hidden = !markContacted;
    document.getElementById("summary").value = markContacted ? markContacted.summary : "";
    document.getElementById("summary").focus();
  }

  async function save(c, form) {
    const result = document.getElementById("record-result");
    const item = form.dataset.item ? JSON.parse(form.dataset.item) : null;
    const value = (id) => document.getElementById(id).value;
    const input = item
      ? { item, channel: value("channel"), summary: value("summary").trim() }
      : { customerId: c.id, channel: value("channel"), direction: value("direction"),
          status: value("status"), summary: value("summary").trim() };
    const body = JSON.stringify(input);
    if (!pending || pending.body !== body) pending = { body, idempotencyKey: Desk.uuid() };
    const button = document.getElementById("save");
    button.disabled = true;
    result.className = "";
    result.textContent = "Saving…";
    try {
      const answer = await gql(item ? CONTACTED : RECORD, { input: { ...input, idempotencyKey: pending.idempotencyKey } });
      const payload = answer.data[item ? "markContacted" : "recordInteraction"];
      if (payload.userErrors.length) {
        result.className = "bad";
        result.setAttribute("role", "alert");
        result.textContent = payload.userErrors.map((e) => e.message).join(" ");
        return;
      }
      pending = null;
      tell({ type: "ctxapi:recorded", customer: c.id, interaction: payload.interaction.id });
      await load();
      prepare(null);
      document.getElementById("record-result").textContent = `Saved (${payload.interaction.id}).`;
    } catch (error) {
      result.className = "bad";
      result.textContent = error.message;
    } finally {
      const again = document.getElementById("save");
      if (again) again.disabled = false;
    }
  }

  // -- the page's life ----------------------------------------------------------------------
  function link(query) {
    return Desk.config.card + "?" + new URLSearchParams(query);
  }

  function notFound(message) {
    main.replaceChildren(h("section", { class: "warn", role: "alert" }, h("h1", {}, "No customer"), h("p", {}, message)));
    main.setAttribute("aria-busy", "false");
    tell({ type: "ctxapi:card", state: "missing" });
  }

  function open(found) {
    generation += 1;
    current = found;
    if (stopFollowing) stopFollowing();
    stopFollowing = Desk.follow({ customer: found.id }, () => {
      clearTimeout(refresh);
      refresh = setTimeout(() => load().catch(fail), 150);  // a burst of changes: one read
    }, (state) => Desk.status(LIVE[state]));
    return load().catch(fail);
  }

  function fail(error) {
    main.replaceChildren(h("section", { class: "warn", role: "alert" },
      h("h1", {}, "The card could not load"), h("p", {}, error.message),
      h("button", { type: "button", onclick: () => start() }, "Try again")));
    main.setAttribute("aria-busy", "false");
  }

  async function start() {
    generation += 1;  // what the card showed before is no longer asked for
    const mine = generation;
    if (stopFollowing) stopFollowing();
    stopFollowing = null;
    try {
      const found = await resolve();
      if (mine !== generation) return;  // the desktop moved on meanwhile
      if (found.missing) notFound(found.missing);
      else if (found.candidates) choose(found.candidates, found.kind);
      else await open(found);
    } catch (error) {
      fail(error);
    }
  }

  Desk.on("ctxapi:open", (message) => {  // the desktop moved to another contact
    const next = new URLSearchParams();
    for (const name of ["customer", "order", "region", "channel", ...IDENTITIES]) {
      if (typeof message[name] === "string" && message[name]) next.set(name, message[name]);
    }
    params = next;
    history.replaceState(null, "", location.pathname + "?" + next);
    start();
  });
  tell({ type: "ctxapi:ready" });
  start();
})();
