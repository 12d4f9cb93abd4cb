import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { AccountQuota, QuotaLimit } from '../api/types';
import { ErrorNotice, Placeholder } from '../shared/errorNotice';
import { Meter } from '../shared/meter';
import { useRenderOnChange } from '../shared/useModel';
import { limitInWords, slurmLimitName } from './limitWords';
import { QuotasModel } from './model';

/**
 * The Quotas section: for each of the user's accounts its usage against
 * every limit Slurm enforces, with a warning as a limit comes near.
 */
export function QuotasPanel(props: {
  model: QuotasModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  useRenderOnChange(model);
  const accounts = model.data?.accounts;
  const { error } = model;

  return (
    <div className="jp-hpc-QuotasPanel">
      {error &&
        (error.status === 503 ? (
          // Only the accounting database is down: jobs still run.
          <div className="jp-hpc-ErrorBanner" role="alert">
            {trans.__('Quotas are unavailable: %1', error.message)}
          </div>
        ) : (
          <ErrorNotice
            error={error}
            failure={message => trans.__('Could not read quotas: %1', message)}
            trans={trans}
          />
        ))}
      {!accounts ? (
        !error && <Placeholder text={trans.__('Loading quotas…')} />
      ) : accounts.length === 0 ? (
        <Placeholder text={trans.__('You have no Slurm accounts.')} />
      ) : (
        <ul className="jp-hpc-CardList" aria-label={trans.__('Accounts')}>
          {accounts.map(account => (
            <AccountCard
              key={account.account}
              account={account}
              warningThreshold={model.warningThreshold}
              trans={trans}
            />
          ))}
        </ul>
      )}
    </div>
  );
}

function AccountCard(props: {
  account: AccountQuota;
  warningThreshold: number;
  trans: TranslationBundle;
}): JSX.Element {
  const { account, warningThreshold, trans } = props;
  const usage = account.limits.filter(limit => limit.used !== null);
  const caps = account.limits.filter(limit => limit.used === null);
  return (
    <li
      className="jp-hpc-Card"
      aria-label={trans.__('Account %1', account.account)}
    >
      <div className="jp-hpc-Card-header">
        <span className="jp-hpc-Card-title">{account.account}</span>
        {account.default && (
          <span className="jp-hpc-Tag">{trans.__('default')}</span>
        )}
      </div>
      {usage.map(limit => (
        <LimitUsage
          key={limitKey(limit)}
          account={account.account}
          limit={limit}
          warningThreshold={warningThreshold}
          trans={trans}
        />
      ))}
      <dl className="jp-hpc-Card-facts">
        {caps.map(limit => (
          <React.Fragment key={limitKey(limit)}>
            <dt title={slurmLimitName(limit)}>{limitInWords(limit, trans)}</dt>
            <dd>{formatAmount(limit.limit, limit.unit)}</dd>
          </React.Fragment>
        ))}
        <dt>{trans.__('Fairshare')}</dt>
        <dd>
          {account.fairshare === null
            ? trans.__('unknown')
            : account.fairshare.toFixed(3)}
        </dd>
      </dl>
    </li>
  );
}

function LimitUsage(props: {
  account: string;
  limit: QuotaLimit;
  warningThreshold: number;
  trans: TranslationBundle;
}): JSX.Element {
  const { account, limit, warningThreshold, trans } = props;
  const used = limit.used ?? 0;
  const fraction = limit.fraction ?? (limit.limit > 0 ? used / limit.limit : 0);
  // Slurm holds new jobs from 100 % on; the warning comes before.
  const reached = fraction >= 1;
  const warn = reached || fraction >= warningThreshold;
  const name = limitInWords(limit, trans);
  const state = reached
    ? trans.__('Limit reached')
    : trans.__('Nearly used up');
  const text = trans.__(
    '%1 of %2 (%3 %)',
    formatAmount(used, ''),
    formatAmount(limit.limit, limit.unit),
    Math.round(fraction * 100)
  );
  return (
    <div className={'jp-hpc-MeterRow' + (reached ? ' jp-mod-reached' : '')}>
      <span className="jp-hpc-MeterRow-caption" title={slurmLimitName(limit)}>
        {name}
      </span>
      <Meter
        label={trans.__('%1 used in %2', name, account)}
        value={used}
        max={limit.limit}
        valueText={text}
        warn={warn}
      />
      <span className="jp-hpc-MeterRow-value">
        {text}
        {warn && (
          <span className="jp-hpc-Warning" role="img" aria-label={state}>
            {' ⚠'}
          </span>
        )}
      </span>
      {reached && (
        // Said by the warning sign's name already.
        <span className="jp-hpc-MeterRow-state" aria-hidden="true">
          {state}
        </span>
      )}
    </div>
  );
}

function limitKey(limit: QuotaLimit): string {
  return `${limit.scope}/${limit.account}/${limit.partition}/${limit.name}/${limit.tres}`;
}

function formatAmount(value: number, unit: string): string {
  const number = Number.isInteger(value)
    ? value.toLocaleString()
    : value.toLocaleString(undefined, { maximumFractionDigits: 1 });
  return unit ? `${number} ${unit}` : number;
}
