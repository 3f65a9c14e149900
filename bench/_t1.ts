import { runThroughput } from './core-throughput.ts';
import { printTable, cleanupScratch } from './lib.ts';
const t0 = performance.now();
const rows = await runThroughput({ quick: process.argv[2] === 'q' }, console.log);
printTable(rows); cleanupScratch();
console.log('took', ((performance.now() - t0)/1000).toFixed(1), 's');
