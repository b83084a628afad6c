package marketplace.searchnode.analysis;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.synonym.SolrSynonymParser;
import org.apache.lucene.analysis.synonym.SynonymFilter;
import org.apache.lucene.analysis.synonym.SynonymGraphFilter;
import org.apache.lucene.analysis.synonym.SynonymMap;
import org.apache.lucene.analysis.synonym.WordnetSynonymParser;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.IndexService.IndexCreationContext;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.AnalysisMode;
import org.elasticsearch.index.analysis.CharFilterFactory;
import org.elasticsearch.index.analysis.CustomAnalyzer;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;

import java.io.StringReader;
import java.util.List;
import java.util.function.Function;

/**
 * `synonym` and `synonym_graph` with inline `synonyms` or a `synonyms_path` file, in the
 * Solr or WordNet format; settings `expand` (true), `lenient` (false), `updateable`.
 *
 * As in production, the rules are tokenised by the analysis chain in front of the
 * filter (`getChainAwareTokenFilterFactory`): under smartcn the rule's 制动片 becomes
 * 制动 + 片, exactly as the indexed text does - a synonym filter that parsed its rules
 * with another analyzer would never match Chinese. Filters that cannot parse rules
 * (n-grams, word delimiters) refuse. The synonyms API (`synonyms_set`) is not available
 * on the local node.
 */
final class SynonymFilterFactory extends AbstractTokenFilterFactory {
    private final Environment environment;
    private final Settings settings;
    private final boolean graph;
    private final boolean expand;
    private final boolean lenient;
    private final String format;
    private final AnalysisMode analysisMode;

    SynonymFilterFactory(IndexSettings indexSettings, Environment environment, String name, Settings settings, boolean graph) {
        super(name, settings);
        this.environment = environment;
        this.settings = settings;
        this.graph = graph;
        if (settings.get("ignore_case") != null) {
            throw new IllegalArgumentException("The [ignore_case] option is not supported: put a lowercase filter in "
                + "front of the synonym filter instead");
        }
        if (settings.get("synonyms_set") != null) {
            throw new IllegalArgumentException("[synonyms_set] (the synonyms API) is not available on this local node: "
                + "give the rules inline in [synonyms] or in a [synonyms_path] file");
        }
        if (settings.get("synonyms") == null && settings.getAsList("synonyms").isEmpty() && settings.get("synonyms_path") == null) {
            throw new IllegalArgumentException("synonym requires either `synonyms`, `synonyms_path` or `synonyms_set` to be configured");
        }
        this.expand = settings.getAsBoolean("expand", true);
        this.lenient = settings.getAsBoolean("lenient", false);
        this.format = settings.get("format", "");
        if (!format.isEmpty() && !format.equals("solr") && !format.equals("wordnet")) {
            throw new IllegalArgumentException("Unknown synonym format [" + format + "]: use [solr] or [wordnet]");
        }
        this.analysisMode = settings.getAsBoolean("updateable", false) ? AnalysisMode.SEARCH_TIME : AnalysisMode.ALL;
    }

    @Override
    public AnalysisMode getAnalysisMode() {
        return analysisMode;
    }

    @Override
    public TokenStream create(TokenStream tokenStream) {
        throw new IllegalStateException("Call getChainAwareTokenFilterFactory to specialize this factory for an analysis chain first");
    }

    @Override
    public TokenFilterFactory getChainAwareTokenFilterFactory(IndexCreationContext context, TokenizerFactory tokenizer,
                                                              List<CharFilterFactory> charFilters,
                                                              List<TokenFilterFactory> previousTokenFilters,
                                                              Function<String, TokenFilterFactory> allFilters) {
        Analyzer analyzer = new CustomAnalyzer(tokenizer, charFilters.toArray(new CharFilterFactory[0]),
            previousTokenFilters.stream().map(TokenFilterFactory::getSynonymFilter).toArray(TokenFilterFactory[]::new));
        SynonymMap synonyms = build(analyzer);
        String name = name();
        boolean isGraph = graph;
        AnalysisMode mode = analysisMode;
        return new TokenFilterFactory() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public TokenStream create(TokenStream tokenStream) {
                if (synonyms.fst == null) {
                    return tokenStream;  // no rules: a no-op, as in production
                }
                return isGraph ? new SynonymGraphFilter(tokenStream, synonyms, false)
                    : new SynonymFilter(tokenStream, synonyms, false);
            }

            @Override
            public TokenFilterFactory getSynonymFilter() {
                return IDENTITY_FILTER;  // a later synonym filter parses its rules without this one's
            }

            @Override
            public AnalysisMode getAnalysisMode() {
                return mode;
            }
        };
    }

    private SynonymMap build(Analyzer analyzer) {
        List<String> rules = Analysis.getWordList(environment, settings, "synonyms");
        try {
            SynonymMap.Parser parser = format.equals("wordnet")
                ? new WordnetSynonymParser(true, expand, analyzer)
                : new SolrSynonymParser(true, expand, analyzer);
            if (rules != null) {
                if (lenient) {
                    for (String rule : rules) {  // a rule that does not parse is skipped
                        try {
                            parser.parse(new StringReader(rule));
                        } catch (Exception e) {
                            // lenient: ignore this rule, keep the others
                        }
                    }
                } else {
                    parser.parse(new StringReader(String.join("\n", rules)));
                }
            }
            return parser.build();
        } catch (Exception e) {
            throw new IllegalArgumentException("failed to build synonyms", e);
        }
    }
}
