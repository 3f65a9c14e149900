// Tool manifests: what a tool promises (name, version, description, argument and
// result JSON Schemas, risk, sandbox, idempotence, secrets it reads) as canonical
// JSON with its SHA-256, `sha256:<hex>`. A changed definition under the same name
// is a new version with a new hash; pins and bindings name that hash.

import { canonicalJson, sha256Hex } from '../../base/canonical.js';
import type { RegistryEntry } from '../../kernel/binding/index.js';
import type { AnyToolDefinition, ToolRisk } from './define.js';
import { ToolCodes, ToolError } from './errors.js';
import { jsonSchemaValidator, zodJsonSchema, zodValidator, type JsonSchema, type SchemaValidator } from './schema.js';

export interface ManifestSandbox {
  kind: 'none' | 'worker';
  /** Declared limits (null: the registry's default applies). */
  timeoutMs: number | null;
  memoryMb: number | null;
  youngMb: number | null;
  stackMb: number | null;
}

export interface ToolManifest {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** JSON Schema of the arguments. */
  readonly input: JsonSchema;
  /** JSON Schema of the result, or null when the tool declares none. */
  readonly output: JsonSchema | null;
  readonly risk: ToolRisk;
  readonly sandbox: ManifestSandbox;
  readonly idempotent: boolean | 'key';
  /** Names of the node secrets the tool reads. */
  readonly secrets: readonly string[];
  /** `sha256:` + hex SHA-256 of the canonical JSON of every field above. */
  readonly hash: string;
}

/** A definition with its schemas compiled and its manifest body (no version yet). */
export interface CompiledTool {
  def: AnyToolDefinition;
  input: SchemaValidator;
  output: SchemaValidator | undefined;
  body: Omit<ToolManifest, 'version' | 'hash'>;
  /** Hash of `body`: equal exactly when two definitions promise the same thing. */
  contentHash: string;
}

export function compileTool(def: AnyToolDefinition): CompiledTool {
  const zod = def.schema === 'zod';
  const input = zod ? zodJsonSchema(def.input, 'input') : def.inputSchema;
  const outputSchema = zod ? (def.output === undefined ? null : zodJsonSchema(def.output, 'output')) : (def.outputSchema ?? null);
  const body: CompiledTool['body'] = {
    name: def.name,
    description: def.description,
    input,
    output: outputSchema,
    risk: def.risk ?? 'low',
    sandbox: {
      kind: def.sandbox ? 'worker' : 'none',
      timeoutMs: def.timeoutMs ?? null,
      memoryMb: def.sandbox?.memoryMb ?? null,
      youngMb: def.sandbox?.youngMb ?? null,
      stackMb: def.sandbox?.stackMb ?? null,
    },
    idempotent: def.idempotent ?? false,
    secrets: [...def.secrets].sort(),
  };
  return {
    def,
    input: zod ? zodValidator(def.input) : namedArguments(jsonSchemaValidator(def.inputSchema, 'inputSchema'), def.inputSchema),
    output: zod ? (def.output === undefined ? undefined : zodValidator(def.output)) : def.outputSchema === undefined ? undefined : jsonSchemaValidator(def.outputSchema, 'outputSchema'),
    body,
    contentHash: hashOf(body, def.name),
  };
}

/** A JSON-Schema tool whose arguments are an object (every MCP tool) may be called without any: they are `{}`. */
function namedArguments(validator: SchemaValidator, schema: JsonSchema): SchemaValidator {
  if (schema.type !== 'object') return validator;
  return { check: (value, what) => validator.check(value === undefined ? {} : value, what) };
}

export function sealManifest(compiled: CompiledTool, version: string): ToolManifest {
  const text = canonical({ ...compiled.body, version }, compiled.def.name);
  // A copy, so freezing it never freezes the schema objects of the definition.
  return deepFreeze({ ...(JSON.parse(text) as Omit<ToolManifest, 'hash'>), hash: `sha256:${sha256Hex(text)}` });
}

function hashOf(body: object, name: string): string {
  return `sha256:${sha256Hex(canonical(body, name))}`;
}

function canonical(body: object, name: string): string {
  try {
    return canonicalJson(body);
  } catch (err) {
    throw new ToolError(ToolCodes.invalidTool, `tool "${name}": its schemas cannot be written as JSON: ${(err as Error).message}`, { field: 'input' });
  }
}

export interface ToolVersion {
  manifest: ToolManifest;
  compiled: CompiledTool;
}

/** The versions of one tool name, oldest first: how a definition gets its version. */
export class ToolVersions {
  private readonly list: ToolVersion[] = [];

  constructor(readonly name: string) {}

  /** Add a definition: an unchanged one returns the version it already has; a changed one becomes the next version. */
  add(compiled: CompiledTool): { version: ToolVersion; added: boolean } {
    const wanted = compiled.def.version;
    const latest = this.latest();
    if (wanted !== undefined) {
      const same = this.list.find((v) => v.manifest.version === wanted);
      if (same) {
        if (same.compiled.contentHash === compiled.contentHash) return { version: same, added: false };
        throw new ToolError(ToolCodes.versionConflict, `tool "${this.name}" version ${wanted} is already registered with a different definition; give the change a new version`, {
          field: 'version',
        });
      }
    } else if (latest && latest.compiled.contentHash === compiled.contentHash) {
      return { version: latest, added: false };
    }
    const version: ToolVersion = { manifest: sealManifest(compiled, wanted ?? this.nextVersion()), compiled };
    this.list.push(version);
    return { version, added: true };
  }

  latest(): ToolVersion | undefined {
    return this.list[this.list.length - 1];
  }

  byHash(hash: string): ToolVersion | undefined {
    return this.list.find((v) => v.manifest.hash === hash);
  }

  byVersion(version: string): ToolVersion | undefined {
    return this.list.find((v) => v.manifest.version === version);
  }

  all(): readonly ToolVersion[] {
    return this.list;
  }

  private nextVersion(): string {
    const majors = this.list.map((v) => Number.parseInt(v.manifest.version.replace(/^v/, ''), 10));
    return String(majors.length === 0 ? 1 : Math.max(...majors) + 1);
  }
}

/** A manifest as a binding registry entry, so a contract's `prefer` can pin `web.fetch_v2` (and its hash is sealed at admission). */
export function registryEntryOf(manifest: ToolManifest): RegistryEntry {
  return {
    name: manifest.name,
    version: manifest.version,
    hash: manifest.hash,
    kind: 'tool',
    attributes: { risk: manifest.risk, sandbox: manifest.sandbox.kind, idempotent: String(manifest.idempotent) },
  };
}

/**
 * Binding registry entries for definitions in the order they will be registered
 * (the first of a name by `register`, later ones by `replace`): the versions and
 * hashes the ToolRegistry will give them. For `createNode({ registry })`.
 */
export function toolRegistryEntries(defs: readonly AnyToolDefinition[]): RegistryEntry[] {
  const byName = new Map<string, ToolVersions>();
  const out: RegistryEntry[] = [];
  for (const def of defs) {
    let versions = byName.get(def.name);
    if (!versions) byName.set(def.name, (versions = new ToolVersions(def.name)));
    const { version, added } = versions.add(compileTool(def));
    if (added) out.push(registryEntryOf(version.manifest));
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
