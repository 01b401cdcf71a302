/** What the fleet page of `strata audit --html` draws: the fleet report as it is (it is small: a row per image, top lists). */
import type { FleetReport } from '../fleet/fleet.js';

export interface FleetPicture {
  kind: 'fleet';
  report: FleetReport;
}

export function fleetPicture(report: FleetReport): FleetPicture {
  return { kind: 'fleet', report };
}
