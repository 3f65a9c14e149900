// Memory and RAG: LMDB-backed key–value, episodic and vector stores per tenant
// namespace, encrypted at rest per tenant, with retention and PII redaction; a RAG
// pipeline whose answers carry citations; and the kernel syscalls that expose them.

export { MemoryCodes, MemoryError, type MemoryCode } from './errors.js';
export { Memory, type MemoryOptions, type TenantMemory } from './memory.js';
export { MemoryStore, MemoryScope, MEMORY_DBS, type MemoryStoreOptions, type ScopeOptions } from './store.js';
export { DerivedKeyring, StaticKeyring, loadOrCreateMasterKey, nodeKeyring, MASTER_KEY_FILE, type Keyring, type TenantKey } from './keyring.js';
export { KeyValue, type KvEntry } from './kv.js';
export { EpisodicLog, type LogEntry, type ReadOptions } from './episodic.js';
export { VectorCollection, exactIndex, type IndexFactory, type StoredVector, type VectorSearchHit } from './vectors.js';
export { ExactCosineIndex, type VectorIndex, type VectorHit, type SearchOptions } from './vector-index.js';
export { IvfIndex, ivfIndex, type IvfOptions } from './ann.js';
export { HashingEmbedder, providerEmbedder, checkVector, DEFAULT_DIMENSION, type Embedder, type ProviderEmbedderConfig } from './embedder.js';
export { chunkText, DEFAULT_CHUNK, type ChunkOptions, type TextChunk } from './chunker.js';
export { redactPii, type PiiKind, type Redaction } from './redact.js';
export { Rag, type SourceInfo, type Citation, type Passage, type IngestReport, type RagAnswer, type RagOptions, type QueryOptions, type RetrievalDiagnostics } from './rag.js';
export { groundAnswer, type AnswerGrounding, type ClaimSupport } from './ground.js';
export { evaluateRetrieval, type LabelledQuery, type RetrievalReport } from './diagnostics.js';
export { MemoryService, redactsPii, type MemoryServiceOptions, type RedactMode } from './service.js';
export { MemorySchemas, MEMORY_SYSCALLS, type MemorySyscall } from './schemas.js';
