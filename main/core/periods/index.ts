export { parsePeriods, parseDay, formatDay, periodInstants, PeriodError, PERIOD_ID, MAX_PERIODS, type Period, type PeriodEvery } from './periods';
export { unitId, unitParts, periodOf, planUnits, UNIT_SEPARATOR, type PeriodOrder, type UnitParts } from './units';
export { EE_DESCRIPTION_LIMIT, descriptionProblem, longestDescription, tileIdBound, type DescriptionBound } from './limits';
export { comparePeriods, type PeriodChange } from './changes';
