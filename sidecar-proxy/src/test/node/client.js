// A second gRPC stack as a client of the sidecar (NodeClientIT): @grpc/grpc-js, raw byte messages.
// Usage: node client.js HOST:PORT AUTHORITY
// Prints one JSON object with what each call shape returned; exits non-zero on any failure.
'use strict';
const grpc = require('@grpc/grpc-js');

const [target, authority] = process.argv.slice(2);
if (!target || !authority) {
  console.error('usage: node client.js HOST:PORT AUTHORITY');
  process.exit(2);
}

const bytes = (b) => b;
const method = (name, requestStream, responseStream) => ({
  path: `/test.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: bytes,
  requestDeserialize: bytes,
  responseSerialize: bytes,
  responseDeserialize: bytes,
});
const Echo = grpc.makeGenericClientConstructor(
  {
    unary: method('Unary', false, false),
    serverStream: method('ServerStream', false, true),
    bidi: method('Bidi', true, true),
  },
  'Echo',
);
const client = new Echo(target, grpc.credentials.createInsecure(), {
  'grpc.default_authority': authority,
});
const deadline = () => new Date(Date.now() + 10000);

function unary() {
  return new Promise((resolve, reject) =>
    client.unary(Buffer.from('hello'), { deadline: deadline() }, (err, reply) =>
      err ? reject(err) : resolve(reply.toString()),
    ),
  );
}

function serverStream() {
  return new Promise((resolve, reject) => {
    const got = [];
    const call = client.serverStream(Buffer.from('5'), { deadline: deadline() });
    call.on('data', (m) => got.push(m.toString()));
    call.on('error', reject);
    call.on('end', () => resolve(got));
  });
}

function bidi() {
  return new Promise((resolve, reject) => {
    const got = [];
    const call = client.bidi({ deadline: deadline() });
    let sent = 0;
    const next = () => {
      if (sent < 3) {
        call.write(Buffer.from(`m${sent++}`));
      } else {
        call.end();
      }
    };
    // Each reply arrives before the next message is sent: the stream really interleaves.
    call.on('data', (m) => {
      got.push(m.toString());
      next();
    });
    call.on('error', reject);
    call.on('end', () => resolve(got));
    next();
  });
}

(async () => {
  try {
    const result = {
      unary: await unary(),
      serverStream: await serverStream(),
      bidi: await bidi(),
    };
    console.log(JSON.stringify(result));
    client.close();
    process.exit(0);
  } catch (e) {
    console.error(`call failed: ${e.code} ${e.details || e.message}`);
    process.exit(1);
  }
})();
