package marketplace.searchnode.analysis;

import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.StopFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.cn.smart.HMMChineseTokenizer;
import org.apache.lucene.analysis.cn.smart.SmartChineseAnalyzer;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.AbstractIndexAnalyzerProvider;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.AbstractTokenizerFactory;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

import java.util.Map;
import java.util.Set;

/**
 * Chinese word segmentation under the names of the official `analysis-smartcn` plugin,
 * from Lucene's `lucene-analysis-smartcn` jar (what that plugin wraps): the analyzer
 * `smartcn`, the tokenizer `smartcn_tokenizer` (alias `smartcn_sentence`, kept by the
 * plugin for old indices) and the stop filter `smartcn_stop` (`stopwords`, default
 * `_smartcn_`: the analyzer's punctuation list). Production installs the plugin on
 * every node (`bin/elasticsearch-plugin install analysis-smartcn`).
 */
public final class LocalSmartChinesePlugin extends Plugin implements AnalysisPlugin {

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        return Map.of("smartcn_tokenizer", SmartTokenizer::new, "smartcn_sentence", SmartTokenizer::new);
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of("smartcn_stop", SmartStop::new);
    }

    @Override
    public Map<String, AnalysisProvider<AnalyzerProvider<? extends org.apache.lucene.analysis.Analyzer>>> getAnalyzers() {
        return Map.of("smartcn", SmartAnalyzer::new);
    }

    static CharArraySet stopWords(Environment environment, Settings settings) {
        CharArraySet defaults = SmartChineseAnalyzer.getDefaultStopSet();
        Map<String, Set<?>> named = Map.of("_smartcn_", defaults);
        return Analysis.parseWords(environment, settings, "stopwords", defaults, named,
            settings.getAsBoolean("ignore_case", false));
    }

    static final class SmartTokenizer extends AbstractTokenizerFactory {
        SmartTokenizer(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(indexSettings, settings, name);
        }

        @Override
        public Tokenizer create() {
            return new HMMChineseTokenizer();
        }
    }

    static final class SmartStop extends AbstractTokenFilterFactory {
        private final CharArraySet stopWords;

        SmartStop(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(name, settings);
            this.stopWords = stopWords(environment, settings);
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            return new StopFilter(tokenStream, stopWords);
        }
    }

    static final class SmartAnalyzer extends AbstractIndexAnalyzerProvider<SmartChineseAnalyzer> {
        private final SmartChineseAnalyzer analyzer;

        SmartAnalyzer(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(name, settings);
            this.analyzer = new SmartChineseAnalyzer(stopWords(environment, settings));
        }

        @Override
        public SmartChineseAnalyzer get() {
            return analyzer;
        }
    }
}
