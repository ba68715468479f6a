import { convertStorage, generateProtocol } from "./measure.js";

const large = generateProtocol(1024 * 1024, 7);
const small = large.slice(0, large.indexOf("\n## ", 100 * 1024));
const which = process.argv[2];
for (let i = 0; i < 2; i++) {
  convertStorage(large);
  for (let k = 0; k < 10; k++) convertStorage(small);
}
const a = performance.now();
if (which === "large") for (let i = 0; i < 3; i++) convertStorage(large);
else for (let i = 0; i < 30; i++) convertStorage(small);
console.log(which, (performance.now() - a).toFixed(0), "ms", small.length, large.length);
