package marketplace.searchnode.analysis;

import org.elasticsearch.index.analysis.CharFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

import java.util.Map;
import java.util.TreeMap;

import static org.elasticsearch.plugins.AnalysisPlugin.requiresAnalysisSettings;

/**
 * The analysis components this engine's mappings use, under the names and settings of
 * Elasticsearch's bundled `analysis-common` module (which Elastic does not publish to
 * Maven Central), built on Lucene's `lucene-analysis-common` jar that the server already
 * depends on. A mapping that runs here runs unchanged on any production cluster.
 *
 * Only what is listed here exists: any other name fails with the server's usual
 * "failed to find global tokenizer/filter/char_filter under [x]" error, as it would on a
 * cluster without the component. Rules shared with production:
 * - synonym filters parse their rules with the analysis chain in front of them
 *   (`getChainAwareTokenFilterFactory`), so a rule's 制动片 is tokenised as the text is;
 * - n-gram, edge n-gram and word-delimiter filters refuse to sit in front of a synonym
 *   filter ("cannot be used to parse synonyms");
 * - n-gram sizes obey `index.max_ngram_diff`.
 */
public final class LocalCommonAnalysisPlugin extends Plugin implements AnalysisPlugin {

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        Map<String, AnalysisProvider<TokenizerFactory>> tokenizers = new TreeMap<>();
        tokenizers.put("edge_ngram", CommonTokenizers.EdgeNGram::new);
        tokenizers.put("ngram", CommonTokenizers.NGram::new);
        tokenizers.put("keyword", CommonTokenizers.Keyword::new);
        tokenizers.put("whitespace", CommonTokenizers.Whitespace::new);
        return tokenizers;
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        Map<String, AnalysisProvider<TokenFilterFactory>> filters = new TreeMap<>();
        filters.put("synonym", requiresAnalysisSettings((index, env, name, settings) ->
            new SynonymFilterFactory(index, env, name, settings, false)));
        filters.put("synonym_graph", requiresAnalysisSettings((index, env, name, settings) ->
            new SynonymFilterFactory(index, env, name, settings, true)));
        filters.put("edge_ngram", CommonTokenFilters.EdgeNGram::new);
        filters.put("ngram", CommonTokenFilters.NGram::new);
        filters.put("word_delimiter_graph", CommonTokenFilters.WordDelimiterGraph::new);
        filters.put("cjk_bigram", CommonTokenFilters.CjkBigram::new);
        filters.put("cjk_width", CommonTokenFilters.CjkWidth::new);
        filters.put("asciifolding", CommonTokenFilters.AsciiFolding::new);
        filters.put("trim", CommonTokenFilters.Trim::new);
        filters.put("flatten_graph", CommonTokenFilters.FlattenGraph::new);
        filters.put("porter_stem", CommonTokenFilters.PorterStem::new);
        filters.put("kstem", CommonTokenFilters.KStem::new);
        filters.put("stemmer", CommonTokenFilters.Stemmer::new);
        return filters;
    }

    @Override
    public Map<String, AnalysisProvider<CharFilterFactory>> getCharFilters() {
        return Map.of("html_strip", CommonTokenizers.HtmlStrip::new);
    }
}
