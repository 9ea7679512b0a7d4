export { type MaintenanceRun, writeMaintenanceMetricsFile } from './maintenance.js';
export { type MetricsDestination, type MetricsRun, writeMetricsFile } from './textfile.js';
