// Types of temporal-cluster.mjs, for the tests that start the cluster it builds.
export declare const temporalCluster: {
  version: string;
  server: string;
  sqlTool: string;
  built: () => boolean;
};

export declare function buildTemporalCluster(log: (message: string) => void): Promise<void>;
