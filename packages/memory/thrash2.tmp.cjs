const { exactSearch } = require('usearch');
const D = 384, N = 20000; const data = new Float32Array(N * D).map(() => Math.random()); const q = new Float32Array(50 * D).map(() => Math.random());
for (;;) exactSearch(data, q, D, 10, 'ip', 1);
