export { checkTelemetryOptions, createTelemetry, type NodeTelemetry, type TelemetryExporter, type TelemetryOptions } from './telemetry.js';
export { observeKernel } from './kernel-metrics.js';
