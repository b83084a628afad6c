"""GraphQL types for money and explained prices."""
import graphene


class Money(graphene.ObjectType):
    amount = graphene.Decimal(required=True, description="Decimal string, 2 places.")
    currency = graphene.String(required=True)


def money(amount, currency):
    return Money(amount=amount, currency=currency)


class PriceAdjustmentType(graphene.ObjectType):
    class Meta:
        name = "PriceAdjustment"

    source = graphene.String(required=True, description='Who changed the price: "vendor", "campaign:<id>", a plugin name, or "platform" (the floor rule).')
    label = graphene.String(required=True)
    amount = graphene.Field(Money, required=True, description="Change of the unit price (negative: cheaper).")


class Price(graphene.ObjectType):
    """A unit price that explains itself: list + sum(adjustments) = final."""

    list = graphene.Field(Money, required=True)
    final = graphene.Field(Money, required=True)
    discount = graphene.Field(Money, required=True, description="list - final")
    adjustments = graphene.List(graphene.NonNull(PriceAdjustmentType), required=True)
    floor = graphene.Field(Money, required=True, description="The lowest price the floor rule allows.")
    floor_applied = graphene.Boolean(required=True)
    floor_exempt = graphene.Boolean(required=True, description="An active platform campaign lifts the floor.")

    @staticmethod
    def resolve_list(root, info):
        return money(root.list_price, root.currency)

    @staticmethod
    def resolve_final(root, info):
        return money(root.final_price, root.currency)

    @staticmethod
    def resolve_discount(root, info):
        return money(root.discount, root.currency)

    @staticmethod
    def resolve_floor(root, info):
        return money(root.floor_price, root.currency)

    @staticmethod
    def resolve_adjustments(root, info):
        return [PriceAdjustmentType(source=a.source, label=a.label, amount=money(a.amount, root.currency))
                for a in root.adjustments]
