"""A five-layer sigmoid MLP for Fashion-MNIST features: the first layers barely learn.

Try: gradient-lens check examples/saturating-activation-stack/bad.py
"""
from tensorflow import keras
from tensorflow.keras import layers


def build_model(num_features: int = 784, num_classes: int = 10) -> keras.Model:
    model = keras.Sequential([
        layers.Dense(512, activation="sigmoid", input_shape=(num_features,)),
        layers.Dense(256, activation="sigmoid"),
        layers.Dense(128, activation="sigmoid"),
        layers.Dense(64, activation="sigmoid"),
        layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
