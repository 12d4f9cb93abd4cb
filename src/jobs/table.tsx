import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { Job } from '../api/types';
import { formatDuration } from '../shared/duration';
import { jobPlacement } from './state';
import { JobStateChip } from './stateChip';

/**
 * Height of a row in pixels (two lines of text); the CSS uses the same.
 * Fixed, so the rows in view follow from the scroll position alone.
 */
export const ROW_HEIGHT = 40;

/**
 * Rows rendered above and below the visible ones, so a fast scroll shows
 * no blank before React catches up.
 */
const OVERSCAN = 8;

/**
 * Viewport height assumed until the real one is measured.
 */
const DEFAULT_VIEWPORT_HEIGHT = 600;

/**
 * Properties of the jobs table.
 */
export interface IJobsTableProps {
  jobs: readonly Job[];
  /** Show whose job each is, for listings of other users' jobs too. */
  showUser: boolean;
  /** Open a job's detail view (Enter or click on its row). */
  onOpen: (id: string) => void;
  /** A job to scroll to and focus, once; then `onRevealed` is called. */
  revealed?: string | null;
  onRevealed?: () => void;
  trans: TranslationBundle;
}

/**
 * The jobs as a table, one two-line row per job (or array task).
 *
 * Only the rows in view exist in the DOM, so 10,000 jobs render as fast as
 * 30. The ARIA table roles and row indices are explicit: rows are laid out
 * as grids, and screen readers must still know each row's place. One row
 * at a time is in the tab order; the arrow keys move between rows.
 */
export function JobsTable(props: IJobsTableProps): JSX.Element {
  const { jobs, showUser, onOpen, revealed, onRevealed, trans } = props;
  const viewport = React.useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = React.useState(0);
  const viewportHeight = useHeight(viewport);
  const [activeId, setActiveId] = React.useState<string | null>(null);
  const focusPending = React.useRef(false);

  let activeIndex = activeId === null ? -1 : indexOf(jobs, activeId);
  if (activeIndex < 0) {
    activeIndex = 0;
  }
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(
    jobs.length,
    Math.ceil((scrollTop + viewportHeight) / ROW_HEIGHT) + OVERSCAN
  );

  const moveTo = React.useCallback(
    (index: number) => {
      const job = jobs[Math.max(0, Math.min(jobs.length - 1, index))];
      if (!job) {
        return;
      }
      setActiveId(job.id);
      focusPending.current = true;
      scrollIntoView(viewport.current, indexOf(jobs, job.id));
    },
    [jobs]
  );

  // Focus the active row once it is rendered (it may have been scrolled in).
  React.useEffect(() => {
    if (!focusPending.current || !viewport.current) {
      return;
    }
    const row = viewport.current.querySelector<HTMLElement>(
      '.jp-hpc-JobsTable-row[tabindex="0"]'
    );
    if (row) {
      focusPending.current = false;
      row.focus();
    }
  });

  React.useEffect(() => {
    if (revealed && indexOf(jobs, revealed) >= 0) {
      moveTo(indexOf(jobs, revealed));
      onRevealed?.();
    }
  }, [revealed, jobs, moveTo, onRevealed]);

  const onKeyDown = (event: React.KeyboardEvent) => {
    const page = Math.max(1, Math.floor(viewportHeight / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = {
      ArrowDown: activeIndex + 1,
      ArrowUp: activeIndex - 1,
      PageDown: activeIndex + page,
      PageUp: activeIndex - page,
      Home: 0,
      End: jobs.length - 1
    };
    if (event.key in moves) {
      event.preventDefault();
      moveTo(moves[event.key]);
    } else if (event.key === 'Enter' && jobs[activeIndex]) {
      event.preventDefault();
      onOpen(jobs[activeIndex].id);
    }
  };

  const rows: JSX.Element[] = [];
  for (let index = first; index < last; index++) {
    const job = jobs[index];
    rows.push(
      <JobRow
        key={job.id}
        job={job}
        index={index}
        isActive={index === activeIndex}
        showUser={showUser}
        onOpen={onOpen}
        onActivate={setActiveId}
        trans={trans}
      />
    );
  }

  return (
    <div
      className="jp-hpc-JobsTable"
      role="table"
      aria-label={trans.__('Slurm jobs')}
      aria-rowcount={jobs.length + 1}
    >
      <div className="jp-hpc-JobsTable-head" role="rowgroup">
        <div className="jp-hpc-JobsTable-headRow" role="row" aria-rowindex={1}>
          <span role="columnheader">{trans.__('ID')}</span>
          <span role="columnheader">{trans.__('Name')}</span>
          {showUser && <span role="columnheader">{trans.__('User')}</span>}
          <span role="columnheader">{trans.__('State')}</span>
          <span role="columnheader">{trans.__('Partition')}</span>
          <span role="columnheader">{trans.__('Elapsed / limit')}</span>
          <span role="columnheader">{trans.__('Nodes or reason')}</span>
        </div>
      </div>
      <div
        ref={viewport}
        className="jp-hpc-JobsTable-body"
        role="rowgroup"
        onScroll={event => setScrollTop(event.currentTarget.scrollTop)}
        onKeyDown={onKeyDown}
      >
        <div
          className="jp-hpc-JobsTable-spacer"
          style={{ height: jobs.length * ROW_HEIGHT }}
        >
          {rows}
        </div>
      </div>
    </div>
  );
}

const JobRow = React.memo(function JobRow(props: {
  job: Job;
  index: number;
  isActive: boolean;
  showUser: boolean;
  onOpen: (id: string) => void;
  onActivate: (id: string) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { job, index, isActive, showUser, onOpen, onActivate, trans } = props;
  const placement = jobPlacement(job);
  const limit = job.time_limit === null ? '∞' : formatDuration(job.time_limit);
  return (
    <div
      className={'jp-hpc-JobsTable-row' + (isActive ? ' jp-mod-active' : '')}
      role="row"
      aria-rowindex={index + 2}
      tabIndex={isActive ? 0 : -1}
      data-job-id={job.id}
      style={{ top: index * ROW_HEIGHT, height: ROW_HEIGHT }}
      onClick={() => onOpen(job.id)}
      onFocus={() => onActivate(job.id)}
    >
      <span className="jp-hpc-JobsTable-id" role="cell">
        {job.id}
      </span>
      <span className="jp-hpc-JobsTable-name" role="cell" title={job.name}>
        {job.name}
      </span>
      {showUser && (
        <span className="jp-hpc-JobsTable-user" role="cell">
          {job.user}
        </span>
      )}
      <span className="jp-hpc-JobsTable-state" role="cell">
        <JobStateChip state={job.state} trans={trans} />
      </span>
      <span className="jp-hpc-JobsTable-partition" role="cell">
        {job.partition}
      </span>
      <span className="jp-hpc-JobsTable-elapsed" role="cell">
        {trans.__('%1 / %2', formatDuration(job.elapsed), limit)}
      </span>
      <span
        className="jp-hpc-JobsTable-placement"
        role="cell"
        title={job.reason && job.state === 'PENDING' ? job.reason : placement}
      >
        {placement}
      </span>
    </div>
  );
});

function indexOf(jobs: readonly Job[], id: string): number {
  return jobs.findIndex(job => job.id === id);
}

/**
 * Scroll `viewport` just enough to show row `index` whole.
 */
function scrollIntoView(viewport: HTMLElement | null, index: number): void {
  if (!viewport || index < 0) {
    return;
  }
  const top = index * ROW_HEIGHT;
  const bottom = top + ROW_HEIGHT;
  if (top < viewport.scrollTop) {
    viewport.scrollTop = top;
  } else if (bottom > viewport.scrollTop + viewport.clientHeight) {
    viewport.scrollTop = bottom - viewport.clientHeight;
  }
}

/**
 * The element's height, kept up to date as the sidebar is resized.
 */
function useHeight(ref: React.RefObject<HTMLElement>): number {
  const [height, setHeight] = React.useState(DEFAULT_VIEWPORT_HEIGHT);
  React.useEffect(() => {
    const element = ref.current;
    if (!element || typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(() => {
      setHeight(element.clientHeight || DEFAULT_VIEWPORT_HEIGHT);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
  return height;
}
