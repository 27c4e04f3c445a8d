// single-spa root config: registers one React micro app, loaded with a native dynamic import().
import { registerApplication, start, navigateToUrl, getAppStatus, unloadApplication } from 'single-spa';

performance.mark('root-config-start');

registerApplication({
  name: '@anchors/orders',
  app: () => {
    performance.mark('app-import-start');
    return import('/apps/spa-anchor/1.0.0/apps/orders.js').then((mod) => {
      performance.mark('app-import-end');
      return mod;
    });
  },
  activeWhen: ['/spa/app'],
});

start({ urlRerouteOnly: true });

// Test hook for the benchmark driver (client-side route changes).
window.__spa = { navigateToUrl, getAppStatus, unloadApplication };
