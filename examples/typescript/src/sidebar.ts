// An agent sidebar over ctxapi: the card of whoever is on the line, and the contact logged.
//
//   CTXAPI_KEY=ctx_live_... node dist/sidebar.js sofia.marquez@example.com
//   node dist/sidebar.js +34612345678 --record "Called about the torn parka" --channel PHONE
//
// The operations and their types come from src/sidebar.graphql and the committed SDL
// (src/generated/graphql.ts, made by `npm run codegen`): reading a field the SDL does not
// have, or reading one as the wrong type, fails `tsc`.
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import {
  Channel,
  Direction,
  type IdentityInput,
  RecordContactDocument,
  type RecordContactMutation,
  SidebarCardDocument,
  type SidebarCardQuery,
} from "./generated/graphql.js";

const USAGE = `usage: sidebar IDENTIFIER [options]

Print the customer card of IDENTIFIER (an email, or a phone number) from ctxapi, and
optionally record the contact the agent is on.

options:
  --region CC             region of a phone number without country code (e.g. ES)
  --record SUMMARY        record a contact with this summary (recordInteraction)
  --channel CHANNEL       its channel: ${Object.values(Channel).join(", ")} (default PHONE)
  --direction DIRECTION   ${Object.values(Direction).join(" or ")} (default INBOUND)
  --idempotency-key KEY   the request's key (default: a new UUID); the same key again
                          is a replay: nothing new is written
  -h, --help              show this help

environment:
  CTXAPI_URL   the GraphQL endpoint (default http://127.0.0.1:8000/graphql)
  CTXAPI_KEY   an API key (make run writes one to .ctxapi/dev-key); scopes context:read,
               and interactions:write to record`;

type Card = NonNullable<SidebarCardQuery["customerBy"]>;
type Recorded = RecordContactMutation["recordInteraction"];

/** A request ctxapi refused or could not answer: its message and code, for the agent. */
class ApiError extends Error {}

interface GraphQLResponse<Result> {
  data?: Result | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Send one typed operation; its result has the type codegen made for the document. */
async function execute<Result, Variables>(
  document: TypedDocumentNode<Result, Variables>,
  variables: Variables,
): Promise<Result> {
  const url = process.env.CTXAPI_URL || "http://127.0.0.1:8000/graphql";
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json, application/json",
      Authorization: `Bearer ${process.env.CTXAPI_KEY ?? ""}`,
    },
    body: JSON.stringify({ query: print(document), variables }),
  }).catch((error: unknown) => {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    throw new ApiError(`cannot reach ${url}: ${cause instanceof Error ? cause.message : cause}`);
  });
  let body: GraphQLResponse<Result>;
  try {
    body = (await response.json()) as GraphQLResponse<Result>;
  } catch {
    throw new ApiError(`HTTP ${response.status}: not a GraphQL response`);
  }
  const [error] = body.errors ?? [];
  if (error) {
    throw new ApiError(`${error.message} (${error.extensions?.code ?? `HTTP ${response.status}`})`);
  }
  if (!body.data) throw new ApiError(`HTTP ${response.status}: no data`);
  return body.data;
}

/** An email has an @; anything else is read as a phone number (in any spelling). */
function identity(identifier: string, region: string | undefined): IdentityInput {
  if (identifier.includes("@")) return { email: identifier };
  return region ? { phone: identifier, region } : { phone: identifier };
}

/** The text of a closed-set option, checked against the SDL's enum. */
function oneOf<T extends string>(values: Record<string, T>, text: string, option: string): T {
  const found = Object.values(values).find((value) => value === text.toUpperCase());
  if (found === undefined) {
    throw new UsageError(`${option} must be one of ${Object.values(values).join(", ")}`);
  }
  return found;
}

class UsageError extends Error {}

/** A bad option or a missing value, as node:util's parseArgs reports it. */
function isParseArgsError(error: unknown): error is TypeError {
  const code = error instanceof TypeError ? String(Reflect.get(error, "code")) : "";
  return code.startsWith("ERR_PARSE_ARGS");
}

/** A long contact summary cut to one sidebar line. */
function clip(text: string, width = 100): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

function day(instant: string | null | undefined): string {
  return instant ? instant.slice(0, 10) : "-";
}

/** The card as a few lines of text, as a narrow sidebar shows it. */
function render(card: Card): string {
  const { stats, insights } = card;
  const value = stats.lifetimeValue;
  const lines = [
    `${card.name} (${card.id}) · ${card.tier} · churn risk ${insights.churnRisk.level}`,
    `  ${stats.orderCount} orders` +
      (value ? `, ${value.amount} ${value.currency}` : "") +
      ` · ${stats.openCases} open case${stats.openCases === 1 ? "" : "s"}`,
  ];
  const order = card.orders.edges[0]?.node;
  if (order) {
    lines.push(
      `Last order ${order.number} on ${day(order.placedAt)}: ${order.status}, ` +
        `${order.total.amount} ${order.total.currency}`,
    );
    for (const parcel of order.shipments) {
      const state = [parcel.status, parcel.condition, parcel.late ? "LATE" : null];
      const when = parcel.deliveredAt ? ` on ${day(parcel.deliveredAt)}` : "";
      const shown = state.filter(Boolean).join(", ");
      lines.push(`  parcel ${parcel.id} (${parcel.carrier}) ${shown}${when}`);
    }
  }
  lines.push("Last contacts");
  for (const { node } of card.interactions.edges) {
    const { channel, direction, status, summary } = node;
    lines.push(`  ${day(node.occurredAt)} ${channel} ${direction} ${status}: ${clip(summary)}`);
  }
  lines.push("Next best actions");
  insights.nextBestActions.forEach((action, index) => {
    // best first
    const about = action.about.map((reference) => `${reference.type} ${reference.id}`).join(", ");
    lines.push(`  ${index + 1}. ${action.kind}${about ? ` [${about}]` : ""}: ${action.reason}`);
  });
  if (insights.nextBestActions.length === 0) lines.push("  (none)");
  return lines.join("\n");
}

/** What recordInteraction answered, in one line per fact. */
function outcome(recorded: Recorded): string {
  if (recorded.userErrors.length > 0) {
    return recorded.userErrors
      .map(({ field, message, code }) => `Not recorded: ${field.join(".")}: ${message} (${code})`)
      .join("\n");
  }
  const contact = recorded.interaction;
  if (!contact) return "Recorded, but it cannot be read back with this key (context:read).";
  const line = `Recorded contact ${contact.id} (${contact.channel}, ${contact.occurredAt})`;
  if (!recorded.replayed) return line;
  return `${line} (replayed: already recorded with this key, nothing new written)`;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      region: { type: "string" },
      record: { type: "string" },
      channel: { type: "string", default: "PHONE" },
      direction: { type: "string", default: "INBOUND" },
      "idempotency-key": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [identifier, ...extra] = positionals;
  if (!identifier || extra.length > 0) {
    throw new UsageError("give one identifier: an email or a phone number");
  }
  const channel = oneOf(Channel, values.channel, "--channel");
  const direction = oneOf(Direction, values.direction, "--direction");
  if (!process.env.CTXAPI_KEY) {
    throw new UsageError("set CTXAPI_KEY to an API key (make run writes one to .ctxapi/dev-key)");
  }

  const { customerBy: card } = await execute(SidebarCardDocument, {
    identity: identity(identifier, values.region),
  });
  if (!card) {
    console.log("No customer has this identifier.");
    return 1;
  }
  console.log(render(card));
  if (values.record === undefined) return 0;

  const { recordInteraction: recorded } = await execute(RecordContactDocument, {
    input: {
      idempotencyKey: values["idempotency-key"] ?? randomUUID(),
      customerId: card.id,
      channel,
      direction,
      summary: values.record,
    },
  });
  console.log(outcome(recorded));
  return recorded.userErrors.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    if (error instanceof UsageError || isParseArgsError(error)) {
      console.error(`sidebar: ${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (error instanceof ApiError) {
      console.error(`sidebar: ${error.message}`);
      process.exitCode = 1;
    } else {
      console.error(`sidebar: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    }
  },
);
