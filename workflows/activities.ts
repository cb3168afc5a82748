// The one place where workflows get their activity stubs and the retry policy that goes with them.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

export const activities = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});
