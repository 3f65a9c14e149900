// A synthetic labelled corpus for retrieval checks: support articles about
// made-up products (names from random syllables, so no embedder has seen them),
// each with a factory city, a distinctive feature, a warranty and a status-light
// fault, padded with boilerplate sentences every article shares. Queries are
// paraphrases: some name the product, some only describe its feature. Seeded, so
// every run sees the same corpus.

import { seededRng, type Rng } from '../../../src/base/rng.js';

export interface CorpusDoc {
  sourceId: string;
  name: string;
  category: string;
  text: string;
}

export interface CorpusQuery {
  kind: 'factory' | 'feature' | 'fault' | 'warranty';
  query: string;
  relevant: string[];
}

const SYLLABLES = ['ka', 'vro', 'lin', 'tes', 'mu', 'ro', 'zan', 'qui', 'bel', 'dor', 'fen', 'gar', 'hol', 'jix', 'lum', 'nev', 'pas', 'ryn', 'sol', 'tav', 'ul', 'wex', 'yor', 'zed'];
const CATEGORIES = ['router', 'thermostat', 'e-bike', 'espresso machine', 'drone', 'smartwatch', 'air purifier', '3D printer', 'robot vacuum', 'solar inverter'];
const CITIES = ['Lisbon', 'Osaka', 'Tampere', 'Monterrey', 'Gdansk', 'Pune', 'Leipzig', 'Cordoba', 'Busan', 'Tallinn', 'Porto', 'Brno', 'Izmir', 'Cebu', 'Medellin', 'Aarhus', 'Kraków', 'Valencia', 'Hsinchu', 'Durban'];
const FEATURES: [feature: string, paraphrase: string][] = [
  ['automatic firmware rollback after a failed update', 'roll back firmware when an update fails'],
  ['a ceramic burr grinder with forty settings', 'ceramic grinder settings'],
  ['medical-grade HEPA filtration with a carbon layer', 'HEPA carbon filter'],
  ['obstacle avoidance using lidar in every direction', 'lidar obstacle avoidance'],
  ['a regenerative braking mode for steep descents', 'regenerative braking on descents'],
  ['blood oxygen monitoring during sleep', 'measure blood oxygen while sleeping'],
  ['a heated build plate that reaches 120 degrees', 'heated bed 120 degrees'],
  ['mesh networking across up to twelve nodes', 'mesh network with twelve nodes'],
  ['geofencing that lowers the heating when you leave', 'geofence turns heating down when away'],
  ['a self-emptying dock that holds sixty days of dust', 'self-emptying dust dock'],
  ['maximum power point tracking on two strings', 'MPPT two strings'],
  ['a cold-brew program that steeps for twelve hours', 'cold brew steeping program'],
  ['a parental control dashboard with bedtime schedules', 'parental controls bedtime'],
  ['a foldable frame that fits in a car boot', 'folding frame fits car trunk'],
  ['return-to-home when the signal is lost', 'return home on signal loss'],
  ['an ECG sensor cleared for atrial fibrillation alerts', 'ECG atrial fibrillation alert'],
  ['a formaldehyde sensor with a live air quality score', 'formaldehyde air quality sensor'],
  ['resin and filament printing in one machine', 'print resin and filament'],
  ['mopping with a vibrating pad and carpet detection', 'vibrating mop detects carpet'],
  ['battery backup that keeps the fridge running in an outage', 'backup power for the fridge during outages'],
  ['voice control without any cloud connection', 'offline voice control'],
  ['a milk frother that textures oat and soy milk', 'froth oat milk'],
  ['humidity control that prevents mould', 'prevent mould with humidity control'],
  ['a swappable battery in the seat post', 'swap battery in seat post'],
  ['thermal imaging for roof inspections', 'thermal camera for roof inspection'],
  ['a titanium case with sapphire glass', 'titanium sapphire case'],
  ['a UV-C lamp that kills airborne viruses', 'ultraviolet lamp kills viruses'],
  ['automatic bed levelling with a strain gauge', 'auto bed leveling strain gauge'],
  ['room mapping that remembers five floors', 'maps multiple floors'],
  ['export limiting for grid operators', 'limit export to the grid'],
  ['WPA3 encryption and a guest network', 'WPA3 guest wifi'],
  ['a water filter that lasts six months', 'six month water filter'],
  ['zoned heating for up to eight rooms', 'heat eight rooms separately'],
  ['a torque sensor that adjusts assistance', 'torque sensor assist'],
  ['a follow-me mode for cyclists', 'follow me mode for bikes'],
  ['a fall detection alarm that calls a contact', 'fall detection calls contact'],
  ['a quiet night mode under twenty decibels', 'quiet night mode decibels'],
  ['an enclosed chamber with an activated carbon filter', 'enclosed chamber carbon filter'],
  ['a pet hair brush that never tangles', 'pet hair tangle free brush'],
  ['islanding protection certified for Europe', 'anti islanding certification Europe'],
];
const COLORS = ['amber', 'red', 'blue', 'green', 'white', 'purple'];
const REMEDIES = [
  'hold the reset button for ten seconds',
  'reseat the power cable and wait two minutes',
  'update the companion app and pair again',
  'clean the sensor window with a dry cloth',
  'let the battery cool down before charging',
  'contact support with the serial number',
];
const FILLER = [
  'Shipping usually takes three to five working days.',
  'Keep the original packaging in case you need to return the device.',
  'Our support team answers questions in several languages.',
  'Register your product online to receive software news.',
  'Read the safety leaflet before first use.',
  'Spare parts are available from authorised dealers.',
  'The device complies with the applicable safety directives.',
  'Prices may vary between regions and retailers.',
  'Dispose of electronic waste at a local collection point.',
  'Accessories are sold separately.',
  'The manual can be downloaded as a PDF.',
  'Customers can track repairs on the service portal.',
];

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)]!;
}

function shuffle<T>(rng: Rng, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function buildCorpus(seed = 42, count = 40): { docs: CorpusDoc[]; queries: CorpusQuery[] } {
  const rng = seededRng(seed);
  const features = shuffle(rng, FEATURES);
  const names = new Set<string>();
  const docs: CorpusDoc[] = [];
  const queries: CorpusQuery[] = [];
  for (let i = 0; i < count; i++) {
    let name: string;
    do {
      name = Array.from({ length: 3 }, () => pick(rng, SYLLABLES)).join('');
      name = name[0]!.toUpperCase() + name.slice(1);
    } while (names.has(name));
    names.add(name);
    const category = CATEGORIES[i % CATEGORIES.length]!;
    const city = pick(rng, CITIES);
    const [feature, paraphrase] = features[i % features.length]!;
    const years = 1 + rng.int(5);
    const color = pick(rng, COLORS);
    const blinks = 2 + rng.int(4);
    const remedy = pick(rng, REMEDIES);
    const facts = [
      `The ${name} is a ${category} assembled in our plant in ${city}.`,
      `Its headline feature is ${feature}.`,
      `Every ${name} comes with a ${years}-year warranty that covers parts and labour.`,
      `If the status light on the ${name} blinks ${color} ${blinks} times, ${remedy}.`,
    ];
    const filler = shuffle(rng, FILLER).slice(0, 4 + rng.int(4));
    const sentences = shuffle(rng, [...facts, ...filler]);
    const sourceId = `kb/${name.toLowerCase()}`;
    docs.push({ sourceId, name, category, text: `${name} ${category} — support article\n\n${sentences.join(' ')}` });
    queries.push(
      { kind: 'factory', query: `Where is the ${name} manufactured?`, relevant: [sourceId] },
      { kind: 'feature', query: `Which ${category} has ${paraphrase}?`, relevant: [sourceId] },
      { kind: 'fault', query: `My ${name} keeps flashing a ${color} light, how do I fix it?`, relevant: [sourceId] },
      { kind: 'warranty', query: `How many years of warranty does the ${name} have?`, relevant: [sourceId] },
    );
  }
  return { docs, queries };
}
