package org.elasticsearch.node;

import org.apache.lucene.util.Version;
import org.elasticsearch.Build;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.cluster.metadata.IndexNameExpressionResolver;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.io.stream.NamedWriteableRegistry;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.ClusterSettings;
import org.elasticsearch.common.settings.IndexScopedSettings;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.settings.SettingsFilter;
import org.elasticsearch.env.Environment;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.ClasspathPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestController;
import org.elasticsearch.rest.RestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.transport.netty4.Netty4Plugin;
import org.elasticsearch.xcontent.XContentBuilder;
import marketplace.searchnode.analysis.LocalCommonAnalysisPlugin;
import marketplace.searchnode.analysis.LocalSmartChinesePlugin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A real single Elasticsearch node in one JVM, built from the jars Elastic publishes
 * to Maven Central (server + transport-netty4). Plugins come from the classpath:
 * Netty4Plugin (HTTP + transport), RootInfoPlugin (GET / and HEAD /, which the
 * unpublished rest-root module normally provides), LocalCommonAnalysisPlugin (the
 * analysis-common names this engine uses, on Lucene's jar) and LocalSmartChinesePlugin
 * (analysis-smartcn's names, on Lucene's smartcn jar). `--without-smartcn` leaves the
 * latter out, to see what a production cluster without analysis-smartcn answers.
 *
 * Usage: java -jar target/search-node.jar   (or: java -cp CLASSES:LIB/* org.elasticsearch.node.LocalSearchNode)
 *            --home DIR [--http-port 9201] [--transport-port 9301] [--host 127.0.0.1]
 *            [--cluster-name marketplace-local] [--node-name marketplace-local-1] [--without-smartcn]
 *            [-Ekey=value ...]   (any node setting, e.g. -Elogger.level=WARN)
 * It lives in this package because NodeConstruction and NodeServiceProvider are package-private.
 */
public final class LocalSearchNode extends Node {

    LocalSearchNode(Environment environment, List<Plugin> plugins) {
        super(NodeConstruction.prepareConstruction(
            environment,
            PluginsLoader.createPluginsLoader(Set.of(), Set.of(), Map.of(), false),
            new NodeServiceProvider() {
                @Override
                PluginsService newPluginService(Environment env, PluginsLoader loader) {
                    return new ClasspathPluginsService(env.settings(), loader, plugins);
                }
            },
            true));
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>();
        Settings.Builder extra = Settings.builder();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.startsWith("-E") && arg.contains("=")) {
                int eq = arg.indexOf('=');
                extra.put(arg.substring(2, eq), arg.substring(eq + 1));
            } else if (arg.equals("--without-smartcn")) {
                opts.put("without-smartcn", "true");
            } else if (arg.startsWith("--") && i + 1 < args.length) {
                opts.put(arg.substring(2), args[++i]);
            } else {
                System.err.println("unknown argument: " + arg);
                System.exit(2);
            }
        }
        String homeArg = opts.get("home");
        if (homeArg == null) {
            System.err.println("--home DIR is required");
            System.exit(2);
        }
        Path home = Path.of(homeArg).toAbsolutePath();
        Files.createDirectories(home);
        String host = opts.getOrDefault("host", "127.0.0.1");
        String httpPort = opts.getOrDefault("http-port", "9201");

        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("cluster.name", opts.getOrDefault("cluster-name", "marketplace-local"))
            .put("node.name", opts.getOrDefault("node-name", "marketplace-local-1"))
            .put("network.host", host)
            .put("http.port", httpPort)
            .put("transport.port", opts.getOrDefault("transport-port", "9301"))
            .put("discovery.type", "single-node")
            .put("node.processors", Math.min(2, Runtime.getRuntime().availableProcessors()))
            .put("indices.breaker.total.use_real_memory", false)
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("logger.level", "INFO")
            .put(extra.build())
            .build();

        LogConfigurator.configureESLogging();
        LogConfigurator.configureWithoutConfig(settings);

        long t0 = System.nanoTime();
        List<Plugin> plugins = new ArrayList<>(List.of(new Netty4Plugin(), new RootInfoPlugin(), new LocalCommonAnalysisPlugin()));
        if (!opts.containsKey("without-smartcn")) {
            plugins.add(new LocalSmartChinesePlugin());
        }
        Node node = new LocalSearchNode(new Environment(settings, null), plugins);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "search-node-shutdown"));
        try {
            node.start();
        } catch (Throwable e) {
            e.printStackTrace();
            StringBuilder summary = new StringBuilder("search node failed to start: ").append(e);
            for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
                summary.append("\n  caused by: ").append(c);
            }
            System.err.println(summary);
            System.err.flush();
            Runtime.getRuntime().halt(1); // no shutdown hook: the node never started
        }
        System.out.printf("search node %s started on http://%s:%s in %d ms%n",
            Build.current().version(), host, httpPort, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        System.out.flush();
        stopped.await(); // Elasticsearch threads are daemons: keep the JVM alive until shutdown
    }

    /** Provides GET / and HEAD / (what clients' info() and ping() call). */
    public static final class RootInfoPlugin extends Plugin implements ActionPlugin {
        private volatile ClusterService clusterService;

        @Override
        public Collection<?> createComponents(PluginServices services) {
            this.clusterService = services.clusterService();
            return List.of();
        }

        @Override
        public Collection<RestHandler> getRestHandlers(Settings settings, NamedWriteableRegistry namedWriteableRegistry,
                                                       RestController restController, ClusterSettings clusterSettings,
                                                       IndexScopedSettings indexScopedSettings, SettingsFilter settingsFilter,
                                                       IndexNameExpressionResolver indexNameExpressionResolver,
                                                       Supplier<DiscoveryNodes> nodesInCluster,
                                                       Predicate<NodeFeature> clusterSupportsFeature) {
            return List.of(new RootInfoHandler(settings, () -> clusterService));
        }
    }

    static final class RootInfoHandler extends BaseRestHandler {
        private final Settings settings;
        private final Supplier<ClusterService> clusterService;

        RootInfoHandler(Settings settings, Supplier<ClusterService> clusterService) {
            this.settings = settings;
            this.clusterService = clusterService;
        }

        @Override
        public String getName() {
            return "local_root_info_action";
        }

        @Override
        public List<Route> routes() {
            return List.of(new Route(RestRequest.Method.GET, "/"), new Route(RestRequest.Method.HEAD, "/"));
        }

        @Override
        protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
            return channel -> {
                Build build = Build.current();
                ClusterService cs = clusterService.get();
                String uuid = cs == null ? "_na_" : cs.state().metadata().clusterUUID();
                XContentBuilder b = channel.newBuilder();
                b.startObject();
                b.field("name", settings.get("node.name"));
                b.field("cluster_name", settings.get("cluster.name"));
                b.field("cluster_uuid", uuid);
                b.startObject("version");
                b.field("number", build.qualifiedVersion());
                b.field("build_flavor", build.flavor());
                b.field("build_type", build.type().displayName());
                b.field("build_hash", build.hash());
                b.field("build_date", build.date());
                b.field("build_snapshot", build.isSnapshot());
                b.field("lucene_version", Version.LATEST.toString());
                b.field("minimum_wire_compatibility_version", build.minWireCompatVersion());
                b.field("minimum_index_compatibility_version", build.minIndexCompatVersion());
                b.endObject();
                b.field("tagline", "You Know, for Search");
                b.endObject();
                channel.sendResponse(new RestResponse(RestStatus.OK, b));
            };
        }
    }
}
