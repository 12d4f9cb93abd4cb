import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { ClusterStatus } from '../api/types';
import { useRenderOnChange } from '../shared/useModel';
import { StatusModel } from './statusModel';

/**
 * Where the sidebar's Slurm data comes from, kept up to date with the
 * server's status.
 */
export function DataSourcePanel(props: {
  model: StatusModel;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { model, trans } = props;
  useRenderOnChange(model);
  return <DataSource site={model.site} trans={trans} />;
}

/**
 * A discreet line saying where the Slurm data comes from when a site service
 * is configured: its shared cache, or Slurm directly while the service does
 * not answer. Nothing without a site service.
 */
export function DataSource(props: {
  site: ClusterStatus['site'];
  trans: TranslationBundle;
}): JSX.Element | null {
  const { site, trans } = props;
  if (!site) {
    return null;
  }
  const { site_url, via_site, problem } = site;
  const label = via_site
    ? trans.__('Shared site cache')
    : trans.__('Direct to Slurm');
  const description = via_site
    ? trans.__(
        'Read through the site service at %1: one Slurm query for all users',
        site_url
      )
    : trans.__(
        'The site service at %1 does not answer (%2); this server asks Slurm itself until it does',
        site_url,
        problem ?? trans.__('no reason given')
      );
  return (
    <span
      className={
        'jp-hpc-DataSource ' +
        (via_site ? 'jp-hpc-mod-viaSite' : 'jp-hpc-mod-direct')
      }
      role="status"
      title={description}
      aria-label={trans.__('%1: %2', label, description)}
    >
      <span className="jp-hpc-DataSource-marker" aria-hidden="true" />
      <span className="jp-hpc-DataSource-label">{label}</span>
    </span>
  );
}
