import { describe, expect, it } from 'vitest';
import type { TaskState } from '../../domain/definitions.js';
import { discoveryReport } from '../../domain/discovery.js';
import { restoreResults } from '../../domain/restore.js';
import type { Scope } from '../../domain/schemas.js';

const device = (id: string, type: 'server' | 'workstation', agents: Scope['devices'][number]['agents']) => ({
  id,
  hostname: `${id}.local`,
  type,
  agents,
  connector: 'manual' as const,
});

describe('discovery report', () => {
  it('flags a server without backup, a backup of an unknown device and a device without agents', () => {
    const report = discoveryReport({
      devices: [
        device('srv-01', 'server', ['rmm']),
        device('srv-02', 'server', ['rmm']),
        device('ws-01', 'workstation', []),
      ],
      credentials: [],
      dataSets: [],
      backupJobs: [
        { id: 'srv-01-nightly', device: 'srv-01', connector: 'manual' },
        { id: 'ghost', device: 'nas-09', connector: 'manual' },
      ],
    });
    expect(report.gaps.map((gap) => [gap.kind, gap.assetId])).toEqual([
      ['server-without-backup', 'srv-02'],
      ['backup-for-unknown-device', 'ghost'],
      ['device-without-agent', 'ws-01'],
    ]);
  });

  it('finds no gap in a complete inventory', () => {
    const report = discoveryReport({
      devices: [device('srv-01', 'server', ['backup'])],
      credentials: [],
      dataSets: [],
      backupJobs: [{ id: 'nightly', device: 'srv-01', connector: 'manual' }],
    });
    expect(report.gaps).toEqual([]);
  });
});

describe('restore results', () => {
  const task = (
    assetId: string,
    startedAt: string,
    endedAt: string,
    integrityCheck: 'passed' | 'failed',
  ): TaskState => ({
    id: `restore-validation.${assetId}`,
    step: 'restore-validation',
    assetId,
    title: 'restore',
    status: 'completed',
    createdAt: startedAt,
    evidence: { text: 'done', restore: { startedAt, endedAt, integrityCheck, verifiedBy: 'Jordan' } },
  });

  it('measures each restore against its RTO and flags overruns and failed integrity checks', () => {
    const results = restoreResults(
      [
        { id: 'fast', device: 'a', rto: 'PT4H', connector: 'manual' },
        { id: 'slow', device: 'b', rto: 'PT1H', connector: 'manual' },
        { id: 'no-rto', device: 'c', connector: 'manual' },
        { id: 'broken', device: 'd', rto: 'PT4H', connector: 'manual' },
      ],
      [
        task('fast', '2026-11-23T01:00:00Z', '2026-11-23T04:00:00Z', 'passed'),
        task('slow', '2026-11-23T01:00:00Z', '2026-11-23T02:00:01Z', 'passed'),
        task('no-rto', '2026-11-23T01:00:00Z', '2026-11-23T09:00:00Z', 'passed'),
        task('broken', '2026-11-23T01:00:00Z', '2026-11-23T01:10:00Z', 'failed'),
      ],
    );
    expect(results.map((r) => [r.job, r.durationSeconds, r.withinRto, r.flagged])).toEqual([
      ['fast', 10800, true, false],
      ['slow', 3601, false, true],
      ['no-rto', 28800, null, false],
      ['broken', 600, true, true],
    ]);
  });
});
