export { type MetricsDestination, type MetricsRun, writeMetricsFile } from './textfile.js';
