import { nullTranslator } from '@jupyterlab/translation';

import { KernelOptions } from '../../api/types';
import { makePartition } from '../../shared/__tests__/fixtures';
import {
  IResourceChoice,
  IResourceContext,
  checkChoice,
  choiceOfPreset,
  initialChoice,
  isResourceChoice,
  parseMemory,
  parseWalltime
} from '../resources';

const trans = nullTranslator.load('jupyterlab_hpc');

const debug = makePartition({ name: 'debug', max_time: 1800 });
const compute = makePartition({
  name: 'compute',
  default: false,
  max_time: 86400,
  cpus: { total: 8, idle: 8 },
  gpus: { total: 4, idle: 2 },
  memory_mb: 8000
});

const context: IResourceContext = {
  partitions: [debug, compute],
  accounts: ['proj1', 'proj2'],
  limits: { max_time: null, max_cpus: 4, max_memory_mb: null, max_gpus: 1 }
};

function choice(fields: Partial<IResourceChoice> = {}): IResourceChoice {
  return {
    preset: '',
    partition: 'debug',
    account: 'proj1',
    walltime: '0:10:00',
    cpus: '1',
    memory: '',
    gpus: '',
    ...fields
  };
}

function options(fields: Partial<KernelOptions> = {}): KernelOptions {
  return {
    presets: [],
    defaults: {},
    partitions: [debug, compute],
    accounts: ['proj1', 'proj2'],
    default_account: 'proj2',
    limits: {},
    ...fields
  };
}

describe('checkChoice', () => {
  it('turns a choice within the limits into the resources to request', () => {
    const checked = checkChoice(
      choice({ partition: 'compute', memory: '2G', gpus: '1', cpus: '2' }),
      context,
      trans
    );

    expect(checked.problems).toEqual({});
    expect(checked.resources).toEqual({
      partition: 'compute',
      account: 'proj1',
      time: 600,
      cpus: 2,
      memory_mb: 2048,
      gpus: 1
    });
  });

  it("leaves empty fields to Slurm's defaults", () => {
    const checked = checkChoice(
      choice({ account: '', walltime: '', cpus: '' }),
      context,
      trans
    );

    expect(checked.resources).toEqual({ partition: 'debug' });
  });

  it("refuses a walltime beyond the partition's limit, naming the limit", () => {
    const checked = checkChoice(
      choice({ walltime: '2:00:00' }),
      context,
      trans
    );

    expect(checked.resources).toBeNull();
    expect(checked.problems.walltime).toBe(
      '2:00:00 is longer than the limit of debug (0:30:00).'
    );
  });

  it('accepts on a partition with a longer limit what another refuses', () => {
    const checked = checkChoice(
      choice({ partition: 'compute', walltime: '2:00:00' }),
      context,
      trans
    );

    expect(checked.problems).toEqual({});
  });

  it("refuses more CPUs or GPUs than the site's limits for kernels", () => {
    const checked = checkChoice(
      choice({ partition: 'compute', cpus: '6', gpus: '2' }),
      context,
      trans
    );

    expect(checked.problems.cpus).toBe(
      'The site allows kernels at most 4 CPUs.'
    );
    expect(checked.problems.gpus).toBe(
      'The site allows kernels at most 1 GPUs.'
    );
  });

  it('refuses GPUs on a partition without any', () => {
    const checked = checkChoice(choice({ gpus: 'a100:1' }), context, trans);

    expect(checked.problems.gpus).toBe('debug has no GPUs.');
  });

  it('refuses more CPUs or memory than the partition has in all', () => {
    const checked = checkChoice(
      choice({ cpus: '5', memory: '5000' }),
      { ...context, limits: null },
      trans
    );

    expect(checked.problems.cpus).toBe('debug has 4 CPUs in all.');
    expect(checked.problems.memory).toBe('debug has 4000 MB of memory in all.');
  });

  it('refuses a partition the user may not use, or one that is down', () => {
    expect(
      checkChoice(choice({ partition: 'secret' }), context, trans).problems
        .partition
    ).toBe('You may not start kernels in partition secret.');

    const down = {
      ...context,
      partitions: [makePartition({ name: 'debug', state: 'DOWN' })]
    };
    expect(checkChoice(choice(), down, trans).problems.partition).toBe(
      'Partition debug is DOWN: the kernel would not start.'
    );
  });

  it('refuses an account not among the user’s', () => {
    expect(
      checkChoice(choice({ account: 'proj9' }), context, trans).problems.account
    ).toBe('Account proj9 is not one of yours (proj1, proj2).');
  });

  it('explains what it cannot read', () => {
    const { problems } = checkChoice(
      choice({ walltime: 'soon', cpus: '1.5', memory: 'lots', gpus: '2x' }),
      context,
      trans
    );

    expect(Object.keys(problems).sort()).toEqual([
      'cpus',
      'gpus',
      'memory',
      'walltime'
    ]);
    expect(problems.walltime).toMatch(/minutes, h:mm:ss or d-hh:mm/);
  });

  it('refuses a walltime under one minute, which the server refuses too', () => {
    expect(
      checkChoice(choice({ walltime: '0:30' }), context, trans).problems
        .walltime
    ).toBe('Ask for at least 1 minute.');
  });
});

describe('parseWalltime', () => {
  it.each([
    ['30', 1800],
    ['5:30', 330],
    ['1:00:00', 3600],
    ['1-0', 86400],
    ['1-02:30', 95400],
    ['2-00:00:10', 172810],
    [' 45 ', 2700]
  ])('reads %p as sbatch --time does: %p s', (text, seconds) => {
    expect(parseWalltime(text)).toBe(seconds);
  });

  it('gives null for an empty field and undefined for no time', () => {
    expect(parseWalltime('')).toBeNull();
    expect(parseWalltime('1h')).toBeUndefined();
    expect(parseWalltime('1:2:3:4')).toBeUndefined();
  });
});

describe('parseMemory', () => {
  it.each([
    ['4000', 4000],
    ['512M', 512],
    ['4G', 4096],
    ['1.5g', 1536],
    ['1T', 1048576],
    ['100K', 1],
    ['2 GB', 2048]
  ])('reads %p as %p MB', (text, megabytes) => {
    expect(parseMemory(text)).toBe(megabytes);
  });
});

describe('the initial choice', () => {
  it("starts from the site's defaults, the default partition and account", () => {
    expect(
      initialChoice(options({ defaults: { time: 3600, cpus: 2 } }), null)
    ).toEqual({
      preset: '',
      partition: 'debug',
      account: 'proj2',
      walltime: '1:00:00',
      cpus: '2',
      memory: '',
      gpus: ''
    });
  });

  it("takes the user's last choice over the defaults", () => {
    const last = choice({ partition: 'compute', walltime: '3:00:00' });

    expect(initialChoice(options({ defaults: { time: 60 } }), last)).toBe(last);
  });

  it('fills the fields from a preset, naming it', () => {
    const preset = {
      name: 'gpu',
      title: 'One GPU',
      resources: { partition: 'compute', gpus: 1, time: 7200 }
    };

    expect(choiceOfPreset(preset, choice())).toEqual(
      choice({
        preset: 'gpu',
        partition: 'compute',
        gpus: '1',
        walltime: '2:00:00'
      })
    );
  });

  it('only takes back from the state database what has every field', () => {
    expect(isResourceChoice(choice())).toBe(true);
    expect(isResourceChoice({ partition: 'debug' })).toBe(false);
    expect(isResourceChoice(null)).toBe(false);
  });
});
