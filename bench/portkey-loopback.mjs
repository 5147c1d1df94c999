// Starts the Portkey gateway (@portkey-ai/gateway, installed in bench/node_modules) bound to 127.0.0.1 only.
// Its start-server.js calls serve({ fetch, port }) without a hostname, which binds every interface; this wrapper
// forces every listen() in the process onto the loopback address before loading it.
// Usage: node portkey-loopback.mjs --port=<port>
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'object' && args[0] !== null) {
    args[0] = { ...args[0], host: '127.0.0.1' };
  } else if (typeof args[0] === 'number' || typeof args[0] === 'string') {
    // listen(port[, host][, backlog][, cb]): put the host in second place.
    const [port, ...rest] = args;
    const tail = typeof rest[0] === 'string' || rest[0] === undefined ? rest.slice(1) : rest;
    args = [port, '127.0.0.1', ...tail];
  }
  return listen.apply(this, args);
};

process.env.NODE_ENV ??= 'production'; // no UI/log streaming routes, no console.clear()
if (!process.argv.includes('--headless')) process.argv.push('--headless');
await import('./node_modules/@portkey-ai/gateway/build/start-server.js');
