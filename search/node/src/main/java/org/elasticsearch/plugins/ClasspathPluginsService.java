package org.elasticsearch.plugins;

import org.elasticsearch.Build;
import org.elasticsearch.common.settings.Settings;

import java.util.ArrayList;
import java.util.List;

/**
 * A PluginsService whose plugins are already-instantiated objects found on the
 * application classpath, instead of bundles unpacked under ES_HOME/plugins and
 * ES_HOME/modules. It lives in this package because PluginsService.LoadedPlugin
 * is package-private.
 */
public class ClasspathPluginsService extends PluginsService {
    private final List<LoadedPlugin> classpathPlugins;

    public ClasspathPluginsService(Settings settings, PluginsLoader emptyLoader, List<Plugin> plugins) {
        super(settings, null, emptyLoader);
        String esVersion = Build.current().version();
        String javaVersion = Integer.toString(Runtime.version().feature());
        List<LoadedPlugin> loaded = new ArrayList<>(plugins.size());
        for (Plugin plugin : plugins) {
            String className = plugin.getClass().getName();
            PluginDescriptor descriptor = new PluginDescriptor(
                className,                 // name
                "classpath plugin",        // description
                esVersion,                 // plugin version
                esVersion,                 // elasticsearch version
                javaVersion,               // java version
                className,                 // class name
                null,                      // module name (not modular)
                List.of(),                 // extended plugins
                false,                     // has native controller
                false,                     // licensed
                false,                     // modular
                false);                    // stable API plugin
            loaded.add(new LoadedPlugin(descriptor, plugin, plugin.getClass().getClassLoader()));
        }
        this.classpathPlugins = List.copyOf(loaded);
    }

    @Override
    protected final List<LoadedPlugin> plugins() {
        return classpathPlugins;
    }
}
