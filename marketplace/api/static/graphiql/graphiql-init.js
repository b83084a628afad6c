// Starts GraphiQL on the page rendered by marketplace.api.views.GraphQLView (templates/api/graphiql.html).
// Signed-in calls: put {"Authorization": "Bearer <accessToken from tokenCreate>"} in the Headers tab.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var defaultQuery = [
    "# The marketplace's GraphQL API. Try:",
    "#   mutation { tokenCreate(email: \"member@demo.marketplace\", password: \"demo-pass-2026\") { accessToken errors { code message } } }",
    "# then, with the header {\"Authorization\": \"Bearer <accessToken>\"}:",
    "#   { me { email roles vendorRoles { role vendor { slug } } } }",
    "{",
    "  searchProducts(query: \"刹车片\", first: 3) {",
    "    totalCount",
    "    products { nameZh vendor { nameZh } variants { price { final { amount } } } }",
    "  }",
    "}",
    "",
  ].join("\n");
  var fetcher = GraphiQL.createFetcher({ url: root.getAttribute("data-endpoint") });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    })
  );
})();
