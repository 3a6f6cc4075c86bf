// The peer of ctxapi's benchmark (bench/peer.py starts it): schema.graphql served by
// @neo4j/graphql over the same Neo4j, with PEER_WORKERS processes (Node's cluster module, one
// port, like gunicorn's workers) on 127.0.0.1:PEER_PORT.
//
//   POST /graphql  {"query", "variables"}  → the GraphQL answer (keep-alive)
//   POST /cypher   {"query", "variables"}  → the answer, and the Cypher text and parameters
//                                            @neo4j/graphql generated for it (for the raw floor)
//   GET  /ready    → 200 once the schema is built and Neo4j answers
//
// Environment: NEO4J_URI, NEO4J_USER (neo4j), NEO4J_PASSWORD, NEO4J_DATABASE (neo4j),
// PEER_PORT, PEER_WORKERS (1), PEER_NAGLE ("on": leave Nagle's algorithm on the driver's
// sockets, to measure what TCP_NODELAY is worth; the default sets TCP_NODELAY on every one).
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";

const env = process.env;
const port = Number(env.PEER_PORT);
const workers = Number(env.PEER_WORKERS || "1");

if (!Number.isInteger(port) || port <= 0 || !Number.isInteger(workers) || workers < 1) {
  console.error("peer: PEER_PORT (a port) and PEER_WORKERS (1 or more) are needed");
  process.exit(2);
}

if (cluster.isPrimary) {
  // Like gunicorn's arbiter: it forks the workers and serves nothing itself; a worker that
  // dies takes the peer down, so a benchmark never runs on fewer processes than it says.
  let ready = 0;
  for (let n = 0; n < workers; n += 1) cluster.fork();
  cluster.on("message", (_worker, message) => {
    if (message === "listening" && (ready += 1) === workers) {
      console.log(`peer: ${workers} worker(s) on 127.0.0.1:${port}`);
    }
  });
  cluster.on("exit", (worker, code, signal) => {
    if (!stopping) {
      console.error(`peer: worker ${worker.process.pid} exited (${signal || code})`);
      process.exit(1);
    }
  });
  let stopping = false;
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers)) worker.kill("SIGTERM");
    setTimeout(() => process.exit(0), 2000).unref();
    cluster.on("exit", () => Object.keys(cluster.workers).length || process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} else {
  await serve();
}

/** TCP_NODELAY on every socket the driver opens (or, with PEER_NAGLE=on, never). */
function settleNagle(nagle) {
  // neo4j-driver 6 calls socket.setNoDelay(true) itself (its node-channel's configureSocket);
  // setting it here as well keeps the peer fair should a driver version stop doing so.
  const connect = net.connect;
  net.connect = net.createConnection = function (...args) {
    const socket = connect.apply(this, args);
    if (nagle) socket.setNoDelay = () => socket;
    else socket.setNoDelay(true);
    return socket;
  };
}

async function serve() {
  settleNagle(env.PEER_NAGLE === "on");
  // Imported after the patch, so the driver's channel sees it.
  const { Neo4jGraphQL } = await import("@neo4j/graphql");
  const { default: neo4j } = await import("neo4j-driver");
  const { GraphQLError, execute, parse, validate } = await import("graphql");

  const driver = neo4j.driver(
    env.NEO4J_URI,
    neo4j.auth.basic(env.NEO4J_USER || "neo4j", env.NEO4J_PASSWORD || ""),
    { disableLosslessIntegers: false, notificationFilter: { minimumSeverityLevel: "OFF" } },
  );
  const typeDefs = readFileSync(new URL("./schema.graphql", import.meta.url), "utf8");
  const schema = await new Neo4jGraphQL({ typeDefs, driver }).getSchema();
  await driver.verifyConnectivity();
  const sessionConfig = { database: env.NEO4J_DATABASE || "neo4j" };

  // Parsed and validated once per document text, as ctxapi caches them.
  const documents = new Map();
  function document(text) {
    let found = documents.get(text);
    if (found === undefined) {
      let parsed;
      try {
        parsed = parse(text);
      } catch (error) {
        return { errors: [error] };
      }
      const errors = validate(schema, parsed);
      found = errors.length ? { errors } : { document: parsed };
      if (documents.size < 1000) documents.set(text, found);
    }
    return found;
  }

  async function answer(body, capture) {
    const { query, variables } = JSON.parse(body);
    const found = document(String(query));
    if (found.errors) return { errors: found.errors.map((e) => e.toJSON()) };
    const contextValue = { sessionConfig };
    let session, transaction;
    const cypher = [];
    if (capture) {
      // @neo4j/graphql runs on a transaction it is given: this one notes what it is sent.
      session = driver.session({ ...sessionConfig, defaultAccessMode: neo4j.session.READ });
      transaction = await session.beginTransaction();
      contextValue.executionContext = {
        run(text, params) {
          cypher.push({ text, params: plain(params) });
          return transaction.run(text, params);
        },
      };
    }
    try {
      const result = await execute({
        schema,
        document: found.document,
        variableValues: variables || {},
        contextValue,
      });
      const out = { data: result.data ?? null };
      if (result.errors) out.errors = result.errors.map((e) => new GraphQLError(e.message).toJSON());
      if (capture) out.extensions = { cypher };
      return out;
    } finally {
      if (transaction) await transaction.rollback();
      if (session) await session.close();
    }
  }

  const server = http.createServer(
    { keepAlive: true, noDelay: true, keepAliveTimeout: 120_000 },
    (request, response) => {
      const send = (status, payload) => {
        const text = JSON.stringify(payload);
        response.writeHead(status, {
          "Content-Type": "application/json",
          "Content-Length": Buffer.byteLength(text),
        });
        response.end(text);
      };
      if (request.method === "GET" && request.url === "/ready") return send(200, { ready: true });
      const capture = request.url === "/cypher";
      if (request.method !== "POST" || !(capture || request.url === "/graphql")) {
        return send(404, { errors: [{ message: "not found" }] });
      }
      const chunks = [];
      request.on("data", (chunk) => chunks.push(chunk));
      request.on("end", () => {
        answer(Buffer.concat(chunks).toString("utf8"), capture).then(
          (payload) => send(200, payload),
          (error) => send(400, { errors: [{ message: String(error.message || error) }] }),
        );
      });
    },
  );
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  server.listen(port, "127.0.0.1", () => process.send("listening"));
  process.on("SIGTERM", () => {
    server.close();
    server.closeAllConnections();
    driver.close().finally(() => process.exit(0));
  });
}

/** Parameters as JSON: the driver's Integers as numbers (they are all small here). */
function plain(value) {
  if (value === null || typeof value !== "object") return value;
  if (typeof value.toNumber === "function" && "low" in value && "high" in value) {
    return value.toNumber();
  }
  if (Array.isArray(value)) return value.map(plain);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
}
