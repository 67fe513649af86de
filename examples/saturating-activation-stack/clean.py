"""The same MLP with ReLU and He initialization: gradients reach the first layer."""
from tensorflow import keras
from tensorflow.keras import layers


def build_model(num_features: int = 784, num_classes: int = 10) -> keras.Model:
    model = keras.Sequential([
        layers.Dense(512, activation="relu", kernel_initializer="he_normal", input_shape=(num_features,)),
        layers.Dense(256, activation="relu", kernel_initializer="he_normal"),
        layers.Dense(128, activation="relu", kernel_initializer="he_normal"),
        layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
        layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
