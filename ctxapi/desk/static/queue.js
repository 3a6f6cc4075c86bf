/* The proactive queue: who to contact before they call, most urgent first, a page at a time.
 * Each row links to the customer's card; the list follows changes live (docs/desktop.md). */
"use strict";

(() => {
  const { h, words, when, gql } = Desk;
  const main = document.getElementById("queue");
  const pages = [null];  // the cursor of each page seen: Previous goes back through them
  let page = 0;
  let refresh = null;

  async function load() {
    const body = await gql(Desk.config.document, { after: pages[page] });
    const queue = body.data.proactiveQueue;
    const rows = queue.edges.map(({ node: item }, n) => h("li", { class: "item" },
      h("div", { class: "line" },
        h("span", { class: "badge priority", title: "Hours past due, tier head start counted" }, String(item.priority)),
        " ",
        h("a", { href: Desk.config.card + "?" + new URLSearchParams({ customer: item.customer.id }), id: `open-${n}` },
          item.customer.name),
        ` · ${words(item.customer.tier)} · `,
        h("strong", {}, words(item.reason)),
        ` → ${words(item.action)}`),
      h("div", { class: "muted" }, item.detail)));
    const previous = h("button", { type: "button", id: "previous", disabled: page === 0,
      onclick: () => { page -= 1; draw(); } }, "Previous");
    const next = h("button", { type: "button", id: "next", disabled: !queue.pageInfo.hasNextPage,
      onclick: () => { pages[page + 1] = queue.pageInfo.endCursor; page += 1; draw(); } }, "Next");
    main.replaceChildren(
      h("h1", {}, "Contact before they call"),
      h("p", { class: "muted" }, `Page ${page + 1}, most urgent first.`),
      rows.length ? h("ol", { class: "plain queue-items" }, rows) : h("p", {}, "Nobody to contact now."),
      h("nav", { class: "row", "aria-label": "Pages" }, previous, next));
    main.setAttribute("aria-busy", "false");
    main.dataset.page = String(page + 1);
    performance.mark("ctxapi:queue-drawn");
  }

  function draw() {
    const focused = document.activeElement && document.activeElement.id;
    return load().then(() => {
      const again = focused && document.getElementById(focused);
      if (again && !again.disabled) again.focus();
    }).catch((error) => {
      main.replaceChildren(h("section", { class: "warn", role: "alert" },
        h("h1", {}, "The queue could not load"), h("p", {}, error.message)));
      main.setAttribute("aria-busy", "false");
    });
  }

  Desk.follow({ queue: "1" }, () => {
    clearTimeout(refresh);
    refresh = setTimeout(draw, 300);
  }, (state) => Desk.status({ live: "Live: the queue follows changes.", reconnecting: "Reconnecting…",
    off: "Not live: reload the page to see changes." }[state]));
  Desk.tell({ type: "ctxapi:ready" });
  draw();
})();
