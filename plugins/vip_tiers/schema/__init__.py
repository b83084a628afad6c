"""The plugin's GraphQL: `customer.py` (a customer's accounts, a store's public
programme, redeeming in the cart) and `store.py` (the store's staff: programme, tiers,
customers, segments, exports, campaigns); the types are in `types.py`."""
import graphene

from .customer import CustomerMutation, CustomerQuery
from .store import StoreMutation, StoreQuery


class Query(CustomerQuery, StoreQuery, graphene.ObjectType):
    pass


class Mutation(CustomerMutation, StoreMutation, graphene.ObjectType):
    pass
